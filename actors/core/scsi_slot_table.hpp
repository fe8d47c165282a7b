// The SCSI attachments of one utility VM (uvm-api.md §7): which host disk
// sits at which controller/LUN, and how many callers hold it.
//
// Words: a *slot* is one controller/LUN pair; an *attachment* is a host disk
// (VHD/VHDX or pass-through) in a slot, keyed by its exact host path
// (case-sensitive); an attachment is *in flight* while its host and guest
// steps run (attaching) or its removal runs (detaching).
//
//   free -> attaching -> attached -(refs reach 0)-> detaching -> free
//              \-> (host or guest step failed) -> free, waiters fail
//   detaching -(remove failed)-> attached with refs 1
//
// A caller that adds a path being attached waits and then shares the
// result: the successful attach grants one ref to the first caller and one to
// each waiter. A caller that adds or removes a path being detached waits and
// asks again when the detach is over. Unlike v0.8.8, a failed attach frees
// its slot and a failed detach does not underflow the count (§7.2 step 8,
// §7.3).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "messages/options.hpp"

namespace uvm {

constexpr uint32_t scsi_luns_per_controller = 64;

struct scsi_slot {
  uint32_t controller = 0;
  uint32_t lun = 0;

  bool operator==(const scsi_slot& other) const {
    return controller == other.controller && lun == other.lun;
  }
};

enum class scsi_state : uint8_t { attaching, attached, detaching };

const char* to_string(scsi_state state);

struct scsi_attachment {
  std::string host_path;
  std::string uvm_path; // "" = attached without a guest mount
  scsi_slot slot;
  bool read_only = false;
  std::string type = "VirtualDisk"; // or "PassThru"
  uint32_t refs = 0;                // refs held by callers; 0 while in flight
  uint32_t waiters = 0;             // adders parked on the attach in flight
  scsi_state state = scsi_state::attaching;
};

struct scsi_add_decision {
  enum action_kind : uint8_t {
    shared,      // already attached: a ref was taken, nothing to send
    wait_attach, // being attached: park; the attach's outcome is yours too
    wait_detach, // being detached: park; call begin_add again afterwards
    attach,      // a slot was allocated: send the host and guest steps
  };
  action_kind action = attach;
  scsi_attachment attachment; // a copy, as it is after the decision
};

struct scsi_remove_decision {
  enum action_kind : uint8_t {
    released,    // a ref was dropped; others still hold the disk
    detach,      // the last ref: send the guest and host removal
    wait_detach, // being detached: park; call begin_remove again afterwards
  };
  action_kind action = released;
  scsi_attachment attachment;
};

class scsi_slot_table {
public:
  // `controllers` is clamped to max_scsi_controllers. `scratch` (WCOW)
  // occupies slot 0:0 as an attached disk with one ref.
  explicit scsi_slot_table(uint32_t controllers,
                           std::optional<scsi_attachment> scratch = std::nullopt);

  uint32_t controllers() const { return controllers_; }

  // AddSCSI under the lock (§7.2 steps 2-4). `uvm_path` and `read_only` of a
  // repeat add are ignored, as in the seed.
  result<scsi_add_decision> begin_add(const std::string& host_path, const std::string& uvm_path,
                                      bool read_only, const std::string& type);
  // Attach done: the attachment becomes attached; returns the refs granted
  // (the first caller plus every waiter).
  result<uint32_t> attach_succeeded(const std::string& host_path);
  // Attach failed: the slot is free again; returns how many waiters fail.
  result<uint32_t> attach_failed(const std::string& host_path);

  // RemoveSCSI's bookkeeping (§7.3). A remove of a path being detached only
  // happens when a caller releases more refs than it holds; it waits, and
  // its retry sees either `not attached` or the ref a failed detach restored.
  result<scsi_remove_decision> begin_remove(const std::string& host_path);
  error detach_succeeded(const std::string& host_path);
  // The disk is still there: attached again with the remover's ref.
  error detach_failed(const std::string& host_path);

  // GetScsiUvmPath (§7.4): only attached disks are found.
  result<scsi_attachment> find(const std::string& host_path) const;
  // The same without a copy: nullptr where find() gives its error. Valid
  // until the table changes.
  const scsi_attachment* attached(const std::string& host_path) const;
  // Every attachment in slot order.
  std::vector<scsi_attachment> entries() const;
  // "controller:lun" -> {host_path, uvm_path, refs, waiters, state, read_only, type}.
  nlohmann::json to_json() const;

private:
  std::optional<scsi_slot> first_free_slot() const;
  scsi_attachment* in_state(const std::string& host_path, scsi_state state);

  uint32_t controllers_;
  std::map<std::string, scsi_attachment> by_path_;
  bool used_[max_scsi_controllers][scsi_luns_per_controller] = {};
};

} // namespace uvm
