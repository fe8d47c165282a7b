// The VSMB shares of one WCOW utility VM (uvm-api.md §9): host directories
// the guest reaches at \\?\VMSMB\VSMB-{dcc079ae-...}\<name>.
//
// Words: a *share* is one host directory exposed to the guest, keyed by its
// lexically cleaned path (case kept, compared case-sensitively). Directory
// shares and single-file shares live in two separate tables; a single file is
// shared through its parent directory, restricted to the *allowed files*. A
// share's name is "s" + a per-VM counter in lower-case hex (s1..s9, sa, ...,
// s10), consumed even when the add fails. A share is *in flight* while it is
// being added, updated (a file added to its allowed files) or removed.
//
//   free -> attaching -> attached -(refs reach 0)-> detaching -> free
//              \-> (host step failed) -> free, waiters fail
//   attached -(restricted add)-> updating -> attached (file allowed or not)
//   detaching -(remove failed)-> attached with refs 1
//
// An unrestricted add of a share being attached waits and shares the
// outcome. Any other add or remove that meets a share in flight waits and asks
// again afterwards: a restricted add must send its own Update with the
// allowed files as they are then.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "hcs/schema.hpp"
#include "messages/errors.hpp"

namespace uvm {

// Go's filepath.Clean for Windows-style paths (a drive letter or a
// backslash: '/' and '\' both separate, '\' is written, the volume is kept)
// and path.Clean for the others.
std::string clean_host_path(const std::string& path);
// The cleaned parent directory and the file name (filepath.Dir and Base).
std::pair<std::string, std::string> split_host_path(const std::string& path);

enum class vsmb_state : uint8_t { attaching, attached, updating, detaching };

const char* to_string(vsmb_state state);

struct vsmb_share {
  std::string name;
  std::string host_path; // the cleaned directory
  std::string guest_path;
  bool file_share = false; // in the single-file table
  std::vector<std::string> allowed_files;
  hcs::virtual_smb_share_options options; // the first adder's, sent again at a restart
  uint32_t refs = 0;                      // per share, not per file
  uint32_t waiters = 0;                   // unrestricted adders parked on the add in flight
  vsmb_state state = vsmb_state::attaching;
};

struct vsmb_add_decision {
  enum action_kind : uint8_t {
    shared,      // already there, unrestricted: a ref was taken
    wait_attach, // being added: park; the add's outcome is yours too
    wait,        // in flight: park; call begin_add again afterwards
    add,         // send a new share (vsmb_add(settings))
    update,      // send the new allowed files (vsmb_update(settings))
  };
  action_kind action = add;
  vsmb_share share;                // a copy, as it is after the decision
  hcs::virtual_smb_share settings; // for add and update
};

struct vsmb_remove_decision {
  enum action_kind : uint8_t { released, detach, wait };
  action_kind action = released;
  vsmb_share share;
};

class vsmb_share_table {
public:
  // `vm_id` names the VM in the seed's "not present" error.
  explicit vsmb_share_table(std::string vm_id) : vm_id_(std::move(vm_id)) {}

  // AddVSMB's bookkeeping (§9.1 steps 3-6): the caller did the stat and
  // tells whether `host_path` is a file. For a file the options get
  // RestrictFileAccess and SingleFileMapping and the file's path, as passed,
  // joins the allowed files. A restricted directory adds "" (seed quirk).
  vsmb_add_decision begin_add(const std::string& host_path, bool is_file,
                              hcs::virtual_smb_share_options options);
  // Returns the refs granted: 1 + waiters after an add, 1 after an update.
  result<uint32_t> add_succeeded(const std::string& name);
  // An add frees the share and returns how many waiters fail; an update
  // leaves the share as it was and returns 0.
  result<uint32_t> add_failed(const std::string& name);

  // RemoveVSMB's bookkeeping (§9.2).
  result<vsmb_remove_decision> begin_remove(const std::string& host_path, bool is_file);
  error remove_succeeded(const std::string& name);
  // The share is still there: attached again with the remover's ref.
  error remove_failed(const std::string& name);

  // GetVSMBUvmPath (§9.3): a file maps to "<share guest path>\<file name>".
  result<std::string> uvm_path(const std::string& host_path, bool is_file) const;

  uint64_t counter() const { return counter_; }
  // Directory shares, then file shares, each by path.
  std::vector<vsmb_share> entries() const;
  // name -> {host_path, guest_path, file_share, allowed_files, refs, waiters, state}.
  nlohmann::json to_json() const;

private:
  struct entry {
    vsmb_share share;
    std::vector<std::string> pending_allowed; // what the add/update in flight sends
  };
  using key = std::pair<bool, std::string>; // {file share, cleaned directory}

  static key key_of(const std::string& host_path, bool is_file);
  entry* in_flight(const std::string& name);

  std::string vm_id_;
  uint64_t counter_ = 0;
  std::map<std::string, entry> by_name_;
  std::map<key, std::string> names_;
};

} // namespace uvm
