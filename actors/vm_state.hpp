// Inside the utility VM actor (vm_actor.hpp): its state and what its files
// share (vm_actor.cpp: lifecycle; vm_children.cpp: the children and the
// view; vm_routes.hpp: the routed calls). Not for other actors.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/core/completion_inbox.hpp"
#include "actors/core/vm_lifecycle.hpp"
#include "actors/device_child.hpp"
#include "actors/vm_actor.hpp"

namespace uvm {

// The child actors of a created system. The bridge is spawned with the
// system (it connects and negotiates at once); a device child on its first
// call (child() below): a VM that never uses a device holds no actor for
// it, and a child spawned late starts as a fresh one would have been.
struct vm_children {
  bridge_child bridge;
  scsi_child scsi;
  vpmem_child vpmem;
  share_child shares;
  network_child network;
  vpci_child vpci;
  layer_child layers;
  device_env env; // what the device children are spawned with

  // The children spawned so far, with their names in the VM's view.
  std::vector<std::pair<const char*, caf::actor>> spawned() const;
};

struct vm_state {
  vm_env env;
  vm_spec spec;
  hcs::create_plan plan;
  vm_lifecycle life{""};
  std::string runtime_id;
  // The current system's memory: the plan's, until update_memory.
  int32_t memory_size_in_mb = 0;
  // The current system's processors: the plan's, until update_cpu_limits.
  int32_t processor_count = 0;
  // Each created system gets a new generation, so that the exit of a
  // system that was replaced (restart) is recognised and dropped.
  uint64_t generation = 0;
  // Backend completions come back through the inbox; a call still in
  // flight when the system exits is failed through its abort instead.
  std::optional<completion_inbox> inbox;
  uint64_t next_call = 0;
  std::unordered_map<uint64_t, std::function<void(const error&)>> aborts;
  std::vector<caf::typed_response_promise<caf::ok_atom>> waiters;
  // Wait returns once the system exited and its guest's log channel has
  // been read to its end (uvm-api.md §5.7): the generations whose channel
  // is still read, and the callers waiting on one of them.
  std::set<uint64_t> output_open;
  std::vector<std::pair<uint64_t, caf::typed_response_promise<caf::ok_atom>>> output_waiters;
  std::vector<std::function<void()>> on_stopped; // Close waits for the exit
  std::optional<vm_children> children;
  // The device children of a system that exited unexpectedly, kept with
  // their tables for the restart (desired state); they join the next
  // system's children once it is created.
  std::optional<vm_children> held;
  // The places of the calls its children serve (kept across restarts).
  std::shared_ptr<vm_admission> admission;
  uint64_t container_counter = 0;
  uint64_t mount_counter = 0;
  std::string exit_activity;
  std::string bridge_lost; // why the guest connection ended, while stopping for it
  static inline const char* name = "utility_vm";
};

using vm_pointer = vm_actor::stateful_pointer<vm_state>;

// Spawns the bridge of the current system (its plan and gate) and readies
// the device children.
void spawn_children(vm_pointer self);
// Spawns one device child of the current system.
void spawn_child(vm_pointer self, scsi_child& out);
void spawn_child(vm_pointer self, vpmem_child& out);
void spawn_child(vm_pointer self, share_child& out);
void spawn_child(vm_pointer self, network_child& out);
void spawn_child(vm_pointer self, vpci_child& out);
void spawn_child(vm_pointer self, layer_child& out);

// The child at `Member` of the current system (there must be one),
// spawned if it was not yet.
template <auto Member>
auto& child(vm_pointer self) {
  auto& handle = (*self->state.children).*Member;
  if constexpr (!std::is_same_v<std::decay_t<decltype(handle)>, bridge_child>) {
    if (!handle) {
      spawn_child(self, handle);
    }
  }
  return handle;
}

// Every child of the current system, spawning those not yet spawned, with
// their names in the VM's view.
std::vector<std::pair<const char*, caf::actor>> all_children(vm_pointer self);
// What callers may address (every child).
vm_devices devices_of(vm_pointer self);
// The system exited (or the VM closed): the children fail what they have
// pending with `why` and end.
void stop_children(vm_pointer self, const error& why);
// The system exited unexpectedly and may be restarted: the bridge ends,
// the device children fail what is pending with `why` and keep what is
// attached (held).
void hold_children(vm_pointer self, const error& why);
// The restarted system runs: the held children (its children since it was
// created) attach what they hold again, one child after the other (SCSI,
// VPMEM, shares, network, VPCI, combined layers), while callers' calls
// wait; `done` gets the first failure.
void restore_children(vm_pointer self, std::function<void(const error&)> done);
// Every device is attached again (served), or the VM stops or exits
// first (refused with its state): the callers' calls the children left
// waiting (vm_gate::holds_calls) are answered. Nothing happens when calls
// are not held.
void release_calls(vm_pointer self);
// Every child's view, by child name, as one JSON object.
caf::result<std::string> children_view(vm_pointer self);

} // namespace uvm
