// The Plan9 shares of one LCOW utility VM (uvm-api.md §10): host
// directories (or single files) the guest mounts over 9p on vsock port 564.
//
// Words: a *share* is a host path mounted at one guest path with given
// options. Its name (and access name) is a per-VM counter in decimal ("0",
// "1", ...), consumed even when the add fails. The seed's documentation
// promises ref-counting ("only actually removed when the ref-count drops to
// zero") that v0.8.8 does not do; this table does it: an add whose host
// path, guest path, read-only, restrict and allowed names all equal a share's
// takes a ref on it, any difference makes a new share. A share is removed
// by its name and leaves when its last ref goes. A share is *in flight*
// while it is being added or removed.
//
//   (new name) -> adding -> live -(refs reach 0)-> removing -> gone
//                   \-> (host or guest step failed) -> gone, waiters fail
//   removing -(remove failed)-> live with refs 1
//
// As for SCSI: an add of a share being added waits and shares the outcome;
// an add or remove of a share being removed waits and asks again.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hcs/device_requests.hpp"
#include "messages/errors.hpp"

namespace uvm {

enum class plan9_state : uint8_t { adding, live, removing };

const char* to_string(plan9_state state);

struct plan9_record {
  hcs::plan9_mount mount; // what hcs::plan9_add sends
  uint32_t refs = 0;      // refs held by callers; 0 while being added
  uint32_t waiters = 0;   // adders parked on the add in flight
  plan9_state state = plan9_state::adding;
};

struct plan9_add_decision {
  enum action_kind : uint8_t {
    shared,      // live: a ref was taken, nothing to send
    wait_attach, // being added: park; the add's outcome is yours too
    wait,        // being removed: park; call begin_add again afterwards
    add,         // a new share (and name): send hcs::plan9_add
  };
  action_kind action = add;
  plan9_record record; // a copy, as it is after the decision
};

struct plan9_remove_decision {
  enum action_kind : uint8_t {
    released, // a ref was dropped; others still hold the share
    remove,   // the last ref: send hcs::plan9_remove
    wait,     // being removed: park; call begin_remove again afterwards
  };
  action_kind action = released;
  plan9_record record;
};

class plan9_table {
public:
  // 0x4 LinuxMetadata, | 0x1 ReadOnly, | 0x80 RestrictFileAccess.
  static int32_t flags_for(bool read_only, bool restrict_access);

  // AddPlan9's bookkeeping (§10.1 steps 3-5). The host-build check for
  // restricted shares is the caller's: it knows the host.
  result<plan9_add_decision> begin_add(const std::string& host_path, const std::string& uvm_path,
                                       bool read_only, bool restrict_access,
                                       std::vector<std::string> allowed_files);
  // Returns the refs granted (the first caller plus every waiter).
  result<uint32_t> add_succeeded(const std::string& name);
  // The share is gone; returns how many waiters fail.
  result<uint32_t> add_failed(const std::string& name);

  // RemovePlan9's bookkeeping: an unknown share, or one still being added,
  // is `not attached`.
  result<plan9_remove_decision> begin_remove(const std::string& name);
  error remove_succeeded(const std::string& name);
  // The share is still there: live again with the remover's ref.
  error remove_failed(const std::string& name);

  // A live share by name.
  result<plan9_record> find(const std::string& name) const;
  uint64_t counter() const { return counter_; }
  // Every share in name (counter) order.
  std::vector<plan9_record> entries() const;
  // name -> {host_path, uvm_path, flags, read_only, allowed_files, refs,
  // waiters, state}.
  nlohmann::json to_json() const;

private:
  plan9_record* in_state(const std::string& name, plan9_state state);

  uint64_t counter_ = 0;
  std::map<std::string, plan9_record> by_name_;
};

} // namespace uvm
