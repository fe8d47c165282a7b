// The public typed interfaces of the engine's actors: exactly the calls a
// caller (an embedder, a scenario, a remote node) makes. What the actors
// send each other besides (backend completions, exits, bridge frames,
// timeouts, restarts) is not part of any public interface and is refused
// from anyone but its owner (actors/internal_calls.hpp).
#pragma once

#include <string>
#include <vector>

#include <caf/typed_actor.hpp>

#include "messages/caf/calls.hpp"
#include "messages/device_types.hpp"
#include "messages/errors.hpp"
#include "messages/guest_types.hpp"
#include "messages/vm_types.hpp"

// The host's stdio sockets of a started process stay in this process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::process_started)

namespace uvm {

// What every child of a VM answers: its table as JSON (the engine's view,
// compared with the simulator's oracle).
using child_view = caf::typed_actor<caf::replies_to<view_atom>::with<std::string>>;

// SCSI (uvm-api.md §7).
using scsi_calls = caf::typed_actor<
    caf::replies_to<add_scsi_atom, scsi_add_request>::with<scsi_mount>,
    // RemoveSCSI(host path, activity).
    caf::replies_to<remove_scsi_atom, std::string, std::string>::with<caf::ok_atom>,
    // GetScsiUvmPath(host path).
    caf::replies_to<scsi_path_atom, std::string>::with<std::string>>;

// VPMEM (§8). Every call ends with the activity id.
using vpmem_calls = caf::typed_actor<
    // AddVPMEM(host path) -> uvm path; RemoveVPMEM(host path).
    caf::replies_to<add_vpmem_atom, std::string, std::string>::with<std::string>,
    caf::replies_to<remove_vpmem_atom, std::string, std::string>::with<caf::ok_atom>>;

// VSMB, Plan9 and named pipes (§9, §10, §12).
using share_calls = caf::typed_actor<
    caf::replies_to<add_vsmb_atom, vsmb_add_request>::with<vsmb_share_handle>,
    // RemoveVSMB(host path), GetVSMBUvmPath(host path).
    caf::replies_to<remove_vsmb_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<vsmb_path_atom, std::string>::with<std::string>,
    caf::replies_to<add_plan9_atom, plan9_add_request>::with<plan9_share_handle>,
    // RemovePlan9(share name).
    caf::replies_to<remove_plan9_atom, std::string, std::string>::with<caf::ok_atom>,
    // AddPipe(host path), RemovePipe(host path).
    caf::replies_to<add_pipe_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<remove_pipe_atom, std::string, std::string>::with<caf::ok_atom>>;

// Network namespaces and endpoints (§11).
using network_calls = caf::typed_actor<
    // AddNetNS(id), RemoveNetNS(id).
    caf::replies_to<add_netns_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<remove_netns_atom, std::string, std::string>::with<caf::ok_atom>,
    // AddEndpointsToNS(id, endpoints), RemoveEndpointsFromNS(id, endpoints).
    caf::replies_to<add_endpoints_atom, std::string, std::vector<hcs::network_endpoint>,
                    std::string>::with<caf::ok_atom>,
    caf::replies_to<remove_endpoints_atom, std::string, std::vector<hcs::network_endpoint>,
                    std::string>::with<caf::ok_atom>>;

// VPCI devices (§13).
using vpci_calls = caf::typed_actor<
    // AssignDevice(device) -> the device's GUID; RemoveDevice(GUID).
    caf::replies_to<assign_device_atom, hcs::virtual_pci_device, std::string>::with<std::string>,
    caf::replies_to<remove_device_atom, std::string, std::string>::with<caf::ok_atom>>;

// Combined layers (§13).
using layer_calls = caf::typed_actor<
    caf::replies_to<combine_layers_atom, combine_layers_request>::with<caf::ok_atom>,
    // RemoveCombinedLayers(root path).
    caf::replies_to<remove_layers_atom, std::string, std::string>::with<caf::ok_atom>>;

// Containers and processes in the guest (§6, §15), answered by the GCS
// bridge child. Processes are named by the bridge's container id (the null
// GUID for the VM's own) and pid.
using guest_calls = caf::typed_actor<
    caf::replies_to<exec_process_atom, process_request>::with<process_started>,
    // Waits for the exit code (no deadline: a process runs as long as it likes).
    caf::replies_to<wait_process_atom, std::string, uint32_t>::with<uint32_t>,
    // The caller's handle is gone: drop the process's record.
    caf::reacts_to<forget_process_atom, std::string, uint32_t>,
    // Signal(container, pid, signal, activity): 0 is Kill; false = not delivered.
    caf::replies_to<signal_process_atom, std::string, uint32_t, int32_t, std::string>::with<bool>,
    // ResizeConsole(container, pid, width, height, activity).
    caf::replies_to<resize_console_atom, std::string, uint32_t, uint16_t, uint16_t,
                    std::string>::with<caf::ok_atom>,
    // CreateContainer(id, ContainerConfig JSON text, activity).
    caf::replies_to<create_container_atom, std::string, std::string,
                    std::string>::with<caf::ok_atom>,
    caf::replies_to<start_container_atom, std::string, std::string>::with<caf::ok_atom>,
    // Shutdown (false) or Terminate (true) a container.
    caf::replies_to<stop_container_atom, std::string, bool, std::string>::with<caf::ok_atom>,
    // Until the container's exit notification arrives or the bridge ends.
    caf::replies_to<wait_container_atom, std::string>::with<caf::ok_atom>,
    caf::replies_to<dump_stacks_atom, std::string>::with<std::string>,
    caf::replies_to<delete_state_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<capabilities_atom>::with<guest_capabilities_info>>;

// The children as callers may address them directly (one actor hop less
// than through the VM). Each checks its VM's lifecycle before every call
// and answers the VM's own errors.
using scsi_actor = child_view::extend_with<scsi_calls>;
using vpmem_actor = child_view::extend_with<vpmem_calls>;
using share_actor = child_view::extend_with<share_calls>;
using network_actor = child_view::extend_with<network_calls>;
using vpci_actor = child_view::extend_with<vpci_calls>;
using layer_actor = child_view::extend_with<layer_calls>;
using guest_actor = child_view::extend_with<guest_calls>;

// The children of a running VM (devices_atom). They end when the VM's
// system exits; a call to one afterwards fails with CAF's
// request_receiver_down (errc::closed) and the VM itself answers why.
struct vm_devices {
  scsi_actor scsi;
  vpmem_actor vpmem;
  share_actor shares;
  network_actor network;
  vpci_actor vpci;
  layer_actor layers;
  guest_actor guest;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_devices& x) {
  return f(x.scsi, x.vpmem, x.shares, x.network, x.vpci, x.layers, x.guest);
}

// A utility VM: its own calls, and every device and guest call, which it
// routes to the child that answers it.
using vm_calls =
    caf::typed_actor<caf::replies_to<start_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<wait_atom>::with<caf::ok_atom>,
                     caf::replies_to<terminate_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<shutdown_atom, std::string>::with<caf::ok_atom>,
                     caf::replies_to<close_atom, std::string>::with<caf::ok_atom>,
                     // ExitError(): ok, or the exit's error / `container not exited`.
                     caf::replies_to<exit_err_atom>::with<caf::ok_atom>,
                     caf::replies_to<info_atom>::with<vm_info>,
                     caf::replies_to<stats_atom, std::string>::with<vm_stats>,
                     // Live resizing: bytes; the limits (see cpu_limits).
                     caf::replies_to<update_memory_atom, uint64_t, std::string>::with<caf::ok_atom>,
                     caf::replies_to<update_cpu_atom, cpu_limits, std::string>::with<caf::ok_atom>,
                     caf::replies_to<counter_atom, counter_kind>::with<uint64_t>,
                     caf::replies_to<children_atom>::with<std::vector<caf::actor_addr>>,
                     // Every child's view, by child name.
                     caf::replies_to<view_atom>::with<std::string>,
                     // The children, while the VM runs.
                     caf::replies_to<devices_atom>::with<vm_devices>,
                     // Fault injection: the next N guest requests fail.
                     caf::reacts_to<guest_fail_atom, uint32_t>>;

using utility_vm_actor = vm_calls::extend_with<scsi_calls, vpmem_calls, share_calls, network_calls,
                                               vpci_calls, layer_calls, guest_calls>;

// The registry: id -> VM. CreateLCOW / CreateWCOW, find, list.
using registry_actor =
    caf::typed_actor<caf::replies_to<create_atom, options_lcow, restart_policy,
                                     std::string>::with<utility_vm_actor, vm_info>,
                     caf::replies_to<create_atom, options_wcow, restart_policy,
                                     std::string>::with<utility_vm_actor, vm_info>,
                     caf::replies_to<find_atom, std::string>::with<utility_vm_actor>,
                     caf::replies_to<list_atom>::with<std::vector<vm_info>>>;

// The supervisor: the exits it recorded, the most recent
// engine_config::exit_history of them, oldest first.
using supervisor_actor =
    caf::typed_actor<caf::replies_to<exits_atom>::with<std::vector<exit_record>>>;

} // namespace uvm
