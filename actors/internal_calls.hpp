// Messages the engine's actors send each other and no caller may: backend
// completions and exits, a VM's exit to its children, bridge frames, wake-
// ups, restarts, the registry's and the supervisor's bookkeeping. Two walls
// keep them private:
//   - they are local-only types (no inspect(), not registered), so no
//     remote node can send one, and the public interfaces
//     (messages/caf/interfaces.hpp) do not list them, so no caller holding
//     a public handle can send one without a cast;
//   - each handler checks the sender (from_owner): a message that does not
//     come from the actor that owns it is logged and dropped. Completions
//     from threads outside the actor system are sent as the receiver
//     itself (caf::send_as), so they pass the same check.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/core/guest_backend.hpp"
#include "actors/core/logging.hpp"
#include "messages/caf/interfaces.hpp"
#include "messages/caf/registration.hpp"
#include "messages/events.hpp"
#include "messages/hcs_types.hpp"
#include "metrics/engine_metrics.hpp"

namespace uvm {

class vm_gate;

// One of the receiver's completion_inbox entries is ready (from itself).
struct inbox_ready {
  uint64_t id = 0;
};

// VM -> child: the system exited; fail what is pending with `why` and end,
// or, when the VM will be restarted (`hold`), keep what is attached for
// restore_devices.
struct system_exited {
  caf::error why;
  bool hold = false;
};

// VM -> device child held over a restart, once the new system is
// created: from now on the child works through the new system's guest and
// answers by its gate (calls that reach it meanwhile get that system's
// state, not the old one's exit).
struct adopt_system {
  std::shared_ptr<guest_backend> guest;
  std::shared_ptr<const vm_gate> gate;
};

// VM -> device child held over a restart: the new system runs; attach
// again what the table holds, in its order. The reply names the first
// device that could not be.
struct restore_devices {};

// VM -> its children and bridge: the restore is over (every device is
// back, or the VM stopped or exited first); the callers' calls left waiting
// meanwhile (vm_gate::holds_calls) are served or refused now, in the order
// they came. Handling it is what makes CAF try them again.
struct calls_released {};

// The bridge's log reader -> the VM (sent as the VM): the guest's log
// channel of the system of `generation` has ended (or it had none), so a
// Wait on that system's exit may return (uvm-api.md §5.7).
struct guest_output_done {
  uint64_t generation = 0;
};

// Backend -> VM (sent as the VM): the system of `generation` exited.
struct hcs_exit_report {
  uint64_t generation = 0;
  hcs::exit_info info;
};

// Registry -> VM: create the compute system.
struct vm_create_request {
  std::string activity;
};

// Supervisor -> VM: re-create the system after an unexpected exit.
struct vm_restart_request {};

// VM -> supervisor: watch me (before anyone can see the VM).
struct vm_watch_request {
  utility_vm_actor vm;
  std::string id;
  restart_policy policy;
};

// VM -> supervisor: my system exited.
struct vm_exit_report {
  std::string id;
  bool unexpected = false;
  std::string exit_error;
  std::string activity;
};

// Registry -> VM -> its children (metrics, at scrape): how many messages
// wait in your mailbox. The VM answers for itself and its children.
struct mailbox_depth_request {};

// VM -> registry: I am closed.
struct vm_closed_report {
  std::string id;
};

// A device child's guest request -> the GCS bridge child (sent as the VM).
struct guest_modify_request {
  std::string request;
  std::string activity;
  guest_backend::completion done;
};

// The connection's reader -> the bridge child (sent as the bridge): a frame,
// or the end of the connection with its cause ("" = the guest closed it).
struct bridge_frame {
  uint32_t type = 0;
  uint64_t id = 0;
  std::string body;
};
struct bridge_lost {
  std::string cause;
};

// The bridge child -> itself: fail the RPCs past their deadline.
struct rpc_deadline_sweep {};

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::inbox_ready)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::system_exited)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::adopt_system)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::restore_devices)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::calls_released)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::guest_output_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::hcs_exit_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::vm_create_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::vm_restart_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::vm_watch_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::vm_exit_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::vm_closed_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::mailbox_depth_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::metrics::mailbox_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::guest_modify_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::bridge_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::bridge_lost)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::rpc_deadline_sweep)

namespace uvm {

// What every device child takes besides its public calls.
using child_internal = caf::typed_actor<
    caf::reacts_to<system_exited>, caf::reacts_to<inbox_ready>, caf::reacts_to<adopt_system>,
    caf::replies_to<restore_devices>::with<caf::ok_atom>, caf::reacts_to<calls_released>,
    caf::replies_to<mailbox_depth_request>::with<uint64_t>>;

using scsi_child = scsi_actor::extend_with<child_internal>;
using vpmem_child = vpmem_actor::extend_with<child_internal>;
using share_child = share_actor::extend_with<child_internal>;
using network_child = network_actor::extend_with<child_internal>;
using vpci_child = vpci_actor::extend_with<child_internal>;
using layer_child = layer_actor::extend_with<child_internal>;

using bridge_child = guest_actor::extend_with<caf::typed_actor<
    caf::reacts_to<system_exited>, caf::reacts_to<calls_released>,
    caf::reacts_to<guest_modify_request>, caf::reacts_to<guest_fail_atom, uint32_t>,
    caf::reacts_to<bridge_frame>, caf::reacts_to<bridge_lost>, caf::reacts_to<rpc_deadline_sweep>,
    caf::replies_to<mailbox_depth_request>::with<uint64_t>>>;

using vm_actor = utility_vm_actor::extend_with<caf::typed_actor<
    caf::replies_to<vm_create_request>::with<vm_info>, caf::reacts_to<inbox_ready>,
    caf::reacts_to<hcs_exit_report>, caf::reacts_to<guest_output_done>, caf::reacts_to<bridge_lost>,
    caf::reacts_to<vm_restart_request>, caf::replies_to<mailbox_depth_request>::with<uint64_t>>>;

using supervisor_internal = supervisor_actor::extend_with<
    caf::typed_actor<caf::reacts_to<vm_watch_request>, caf::reacts_to<vm_exit_report>>>;

using registry_internal = registry_actor::extend_with<
    caf::typed_actor<caf::reacts_to<vm_closed_report>,
                     caf::replies_to<mailbox_depth_request>::with<metrics::mailbox_sample>>>;

// True when the message being handled comes from `owner`; otherwise the
// message is logged as refused and the caller drops it.
template <class Self>
bool from_owner(Self* self, const caf::actor_addr& owner, const char* what) {
  const auto& sender = self->current_sender();
  if (owner && sender && sender->address() == owner) {
    return true;
  }
  logging::warn({}, "refused an internal message from a sender that does not own it",
                {{"actor", self->name()}, {"message", what}});
  return false;
}

} // namespace uvm
