// The VPMEM devices of one LCOW utility VM (uvm-api.md §8): read-only layer
// VHDs mapped as persistent-memory devices 0..max_count-1, each mounted by
// the guest at /run/layers/p<n>.
//
// Words: a *slot* is a device number; a *device* is a host VHD in a slot,
// keyed by its exact host path; a device is *in flight* while it is being
// attached or detached.
//
//   free -> attaching -> attached -(refs reach 0)-> detaching -> free
//              \-> (host or guest step failed) -> free, waiters fail
//   detaching -(remove failed)-> attached with refs 1
//
// Packed (multi-mapping as in later hcsshim; README): each device is a slot of
// max_size_bytes holding up to 1024 layers at page-aligned offsets
// (actors/core/vpmem_allocator); a layer is *packed* at /run/layers/
// p<n>-<offset>-<size>. A slot's own states:
//
//   free -(first layer)-> creating -> packed -(last layer leaves)-> deleting -> free
//
// A slot that is creating or deleting takes no new layer (the device add
// or remove is in flight), so later adds go to the next slot.
//
// Same in-flight rules as the SCSI table: an add of a path being attached
// waits and shares the outcome; an add or remove of a path being detached
// waits and asks again. (v0.8.8 held its lock across the HCS call, so a
// second adder simply ran after the first: after a failure it tried its own
// attach. Here every waiter gets the first attach's failure.)
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "actors/core/vpmem_allocator.hpp"
#include "messages/errors.hpp"
#include "messages/options.hpp"

namespace uvm {

enum class vpmem_state : uint8_t { attaching, attached, detaching };

const char* to_string(vpmem_state state);

struct vpmem_device {
  std::string host_path;
  std::string uvm_path; // /run/layers/p<n>, or "/" for the VHD root FS
  uint32_t device_number = 0;
  uint32_t refs = 0;    // refs held by callers; 0 while in flight
  uint32_t waiters = 0; // adders parked on the attach in flight
  vpmem_state state = vpmem_state::attaching;
  bool packed = false;     // a range of a shared device
  uint64_t offset = 0;     // packed only
  uint64_t size_bytes = 0; // packed only: page-aligned
};

struct vpmem_add_decision {
  enum action_kind : uint8_t { shared, wait_attach, wait_detach, attach };
  action_kind action = attach;
  vpmem_device device;     // a copy, as it is after the decision
  bool new_device = false; // attach of a packed layer: its device is created too
};

struct vpmem_remove_decision {
  enum action_kind : uint8_t { released, detach, wait_detach };
  action_kind action = released;
  vpmem_device device;
  bool last_on_device = false; // detach of a packed layer: its device goes too
};

class vpmem_table {
public:
  // `max_count` is clamped to max_vpmem_count (128). `rootfs_file` (VHD
  // boot) occupies device 0 under that bare file name, mounted at "/".
  // `packed` turns multi-mapping on.
  vpmem_table(uint32_t max_count, uint64_t max_size_bytes,
              std::optional<std::string> rootfs_file = std::nullopt, bool packed = false);

  // AddVPMEM's bookkeeping (§8.1 steps 2-4); `size_bytes` is the caller's
  // stat of the file, checked only when a new device is needed.
  result<vpmem_add_decision> begin_add(const std::string& host_path, uint64_t size_bytes);
  // Returns the refs granted (the first caller plus every waiter).
  result<uint32_t> attach_succeeded(const std::string& host_path);
  // Frees the slot; returns how many waiters fail.
  result<uint32_t> attach_failed(const std::string& host_path);

  // RemoveVPMEM's bookkeeping (§8.2); see scsi_slot_table::begin_remove.
  result<vpmem_remove_decision> begin_remove(const std::string& host_path);
  error detach_succeeded(const std::string& host_path);
  error detach_failed(const std::string& host_path);

  uint32_t max_count() const { return static_cast<uint32_t>(slots_.size()); }
  bool packed() const { return packed_; }
  uint64_t max_size_bytes() const { return max_size_bytes_; }
  // Whether the path has a device in any state (an add of it needs no stat).
  bool contains(const std::string& host_path) const { return by_path_.count(host_path) != 0; }
  // Only attached devices are found.
  result<vpmem_device> find(const std::string& host_path) const;
  // Every device in device-number order.
  std::vector<vpmem_device> entries() const;
  // "<n>" -> {host_path, uvm_path, refs, waiters, state}; packed:
  // "<n>" -> {state, mappings: {"<offset>" -> {host_path, uvm_path,
  // size_bytes, refs, waiters, state}}}.
  nlohmann::json to_json() const;

private:
  enum class slot_state : uint8_t { free, whole, creating, packed, deleting };
  struct slot {
    slot_state state = slot_state::free;
    vpmem_allocator ranges;
  };

  vpmem_device* in_state(const std::string& host_path, vpmem_state state);
  // Places a new packed layer: a slot that is packed and has room, else the
  // first free slot.
  result<vpmem_add_decision> place_packed(const std::string& host_path, uint64_t size_bytes);
  uint32_t layers_on(uint32_t device_number) const;
  void forget(const vpmem_device& entry);
  nlohmann::json packed_json() const;

  uint64_t max_size_bytes_;
  bool packed_;
  std::vector<slot> slots_;
  std::map<std::string, vpmem_device> by_path_;
};

} // namespace uvm
