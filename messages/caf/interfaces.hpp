// The CAF side of the vocabulary: atoms, the error category, the typed
// interfaces of the engine's actors, and type registration for remote nodes.
#pragma once

#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/device_types.hpp"
#include "messages/errors.hpp"
#include "messages/events.hpp"
#include "messages/guest_types.hpp"
#include "messages/hcs_types.hpp"
#include "messages/vm_types.hpp"

CAF_ERROR_CODE_ENUM(uvm::errc, "uvm")

CAF_ADD_ATOM(uvm, uvm, start_atom, "start")
CAF_ADD_ATOM(uvm, uvm, wait_atom, "wait")
CAF_ADD_ATOM(uvm, uvm, terminate_atom, "terminate")
CAF_ADD_ATOM(uvm, uvm, shutdown_atom, "shutdown")
CAF_ADD_ATOM(uvm, uvm, close_atom, "close")
CAF_ADD_ATOM(uvm, uvm, exit_err_atom, "exit_err")
CAF_ADD_ATOM(uvm, uvm, info_atom, "info")
CAF_ADD_ATOM(uvm, uvm, stats_atom, "stats")
CAF_ADD_ATOM(uvm, uvm, counter_atom, "counter")
CAF_ADD_ATOM(uvm, uvm, restart_atom, "restart")
CAF_ADD_ATOM(uvm, uvm, hcs_done_atom, "hcs_done")
CAF_ADD_ATOM(uvm, uvm, hcs_exit_atom, "hcs_exit")
CAF_ADD_ATOM(uvm, uvm, view_atom, "view")
CAF_ADD_ATOM(uvm, uvm, children_atom, "children")
CAF_ADD_ATOM(uvm, uvm, vm_exit_atom, "vm_exit")
CAF_ADD_ATOM(uvm, uvm, create_atom, "create")
CAF_ADD_ATOM(uvm, uvm, find_atom, "find")
CAF_ADD_ATOM(uvm, uvm, list_atom, "list")
CAF_ADD_ATOM(uvm, uvm, forget_atom, "forget")
CAF_ADD_ATOM(uvm, uvm, watch_atom, "watch")
CAF_ADD_ATOM(uvm, uvm, exits_atom, "exits")
CAF_ADD_ATOM(uvm, uvm, add_scsi_atom, "add_scsi")
CAF_ADD_ATOM(uvm, uvm, remove_scsi_atom, "rm_scsi")
CAF_ADD_ATOM(uvm, uvm, scsi_path_atom, "scsi_path")
CAF_ADD_ATOM(uvm, uvm, scsi_ctl_atom, "scsi_ctl")
CAF_ADD_ATOM(uvm, uvm, vm_state_atom, "vm_state")
CAF_ADD_ATOM(uvm, uvm, guest_modify_atom, "guest_mod")
CAF_ADD_ATOM(uvm, uvm, guest_fail_atom, "guest_fail")
CAF_ADD_ATOM(uvm, uvm, rollback_atom, "rollback")
CAF_ADD_ATOM(uvm, uvm, bridge_frame_atom, "br_frame")
CAF_ADD_ATOM(uvm, uvm, bridge_closed_atom, "br_closed")
CAF_ADD_ATOM(uvm, uvm, rpc_timeout_atom, "rpc_tmo")
CAF_ADD_ATOM(uvm, uvm, add_vpmem_atom, "add_vpmem")
CAF_ADD_ATOM(uvm, uvm, remove_vpmem_atom, "rm_vpmem")
CAF_ADD_ATOM(uvm, uvm, add_vsmb_atom, "add_vsmb")
CAF_ADD_ATOM(uvm, uvm, remove_vsmb_atom, "rm_vsmb")
CAF_ADD_ATOM(uvm, uvm, vsmb_path_atom, "vsmb_path")
CAF_ADD_ATOM(uvm, uvm, add_plan9_atom, "add_plan9")
CAF_ADD_ATOM(uvm, uvm, remove_plan9_atom, "rm_plan9")
CAF_ADD_ATOM(uvm, uvm, add_pipe_atom, "add_pipe")
CAF_ADD_ATOM(uvm, uvm, remove_pipe_atom, "rm_pipe")
CAF_ADD_ATOM(uvm, uvm, add_netns_atom, "add_netns")
CAF_ADD_ATOM(uvm, uvm, remove_netns_atom, "rm_netns")
CAF_ADD_ATOM(uvm, uvm, add_endpoints_atom, "add_ep")
CAF_ADD_ATOM(uvm, uvm, remove_endpoints_atom, "rm_ep")
CAF_ADD_ATOM(uvm, uvm, assign_device_atom, "assign_dev")
CAF_ADD_ATOM(uvm, uvm, remove_device_atom, "rm_dev")
CAF_ADD_ATOM(uvm, uvm, combine_layers_atom, "combine")
CAF_ADD_ATOM(uvm, uvm, remove_layers_atom, "rm_combine")
CAF_ADD_ATOM(uvm, uvm, exec_process_atom, "exec_proc")
CAF_ADD_ATOM(uvm, uvm, wait_process_atom, "wait_proc")
CAF_ADD_ATOM(uvm, uvm, forget_process_atom, "forget_prc")
CAF_ADD_ATOM(uvm, uvm, signal_process_atom, "sig_proc")
CAF_ADD_ATOM(uvm, uvm, resize_console_atom, "resize_con")
CAF_ADD_ATOM(uvm, uvm, create_container_atom, "create_ctr")
CAF_ADD_ATOM(uvm, uvm, start_container_atom, "start_ctr")
CAF_ADD_ATOM(uvm, uvm, stop_container_atom, "stop_ctr")
CAF_ADD_ATOM(uvm, uvm, wait_container_atom, "wait_ctr")
CAF_ADD_ATOM(uvm, uvm, dump_stacks_atom, "dump_stack")
CAF_ADD_ATOM(uvm, uvm, delete_state_atom, "del_state")
CAF_ADD_ATOM(uvm, uvm, capabilities_atom, "caps")

// The host's stdio sockets of a started process stay in this process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::process_started)

namespace uvm {

// A child of a utility VM (SCSI, VPMEM, shares, GCS bridge). The VM tells
// it when the system exited; it fails what it has pending and ends.
using device_child_actor = caf::typed_actor<
    // The child's table as JSON (the engine's view, compared with the
    // simulator's oracle).
    caf::replies_to<view_atom>::with<std::string>, caf::reacts_to<vm_exit_atom, caf::error>>;

// Containers and processes in the guest, answered by the GCS bridge child
// and routed by the VM (uvm-api.md §6, §15). Processes are named by the
// bridge's container id (the null GUID for the VM's own) and pid.
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

// The GCS bridge child: the guest half of every modify, and the guest's
// containers and processes.
using gcs_bridge_actor = caf::typed_actor<
    // A GuestRequest for the null container (bridge ModifySettings).
    caf::replies_to<guest_modify_atom, std::string, std::string>::with<caf::ok_atom>,
    // Fault injection: the next N guest requests fail.
    caf::reacts_to<guest_fail_atom, uint32_t>, caf::replies_to<view_atom>::with<std::string>,
    caf::reacts_to<vm_exit_atom, caf::error>,
    // From the connection's reader: a frame (type, id, body), or the end
    // of the connection with its cause ("" = the guest closed it).
    caf::reacts_to<bridge_frame_atom, uint32_t, uint64_t, std::string>,
    caf::reacts_to<bridge_closed_atom, std::string>,
    // Time to fail the RPCs past their deadline.
    caf::reacts_to<rpc_timeout_atom>>::extend_with<guest_calls>;

// The SCSI child: slot table, ref-counts, two-phase attach and detach.
// Callers may also talk to it directly (the VM hands it out with
// scsi_ctl_atom): it knows the VM's state and answers the VM's errors.
using scsi_actor = caf::typed_actor<
    caf::replies_to<add_scsi_atom, scsi_add_request>::with<scsi_mount>,
    // RemoveSCSI(host path, activity).
    caf::replies_to<remove_scsi_atom, std::string, std::string>::with<caf::ok_atom>,
    // GetScsiUvmPath(host path).
    caf::replies_to<scsi_path_atom, std::string>::with<std::string>,
    caf::replies_to<view_atom>::with<std::string>, caf::reacts_to<vm_exit_atom, caf::error>,
    // From the VM: its lifecycle state changed.
    caf::reacts_to<vm_state_atom, lifecycle_state>,
    caf::reacts_to<hcs_done_atom, uint64_t, hcs::call_result>,
    // Retry of the rollback of a host add (host path, attempt).
    caf::reacts_to<rollback_atom, std::string, uint32_t>>;

// The device calls of a utility VM besides SCSI, as its children answer
// them and as the VM routes them. Every call ends with the activity id.
using vpmem_calls = caf::typed_actor<
    // AddVPMEM(host path) -> uvm path; RemoveVPMEM(host path).
    caf::replies_to<add_vpmem_atom, std::string, std::string>::with<std::string>,
    caf::replies_to<remove_vpmem_atom, std::string, std::string>::with<caf::ok_atom>>;

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

using network_calls = caf::typed_actor<
    // AddNetNS(id), RemoveNetNS(id).
    caf::replies_to<add_netns_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<remove_netns_atom, std::string, std::string>::with<caf::ok_atom>,
    // AddEndpointsToNS(id, endpoints), RemoveEndpointsFromNS(id, endpoints).
    caf::replies_to<add_endpoints_atom, std::string, std::vector<hcs::network_endpoint>,
                    std::string>::with<caf::ok_atom>,
    caf::replies_to<remove_endpoints_atom, std::string, std::vector<hcs::network_endpoint>,
                    std::string>::with<caf::ok_atom>>;

using vpci_calls = caf::typed_actor<
    // AssignDevice(device) -> the device's GUID; RemoveDevice(GUID).
    caf::replies_to<assign_device_atom, hcs::virtual_pci_device, std::string>::with<std::string>,
    caf::replies_to<remove_device_atom, std::string, std::string>::with<caf::ok_atom>>;

using layer_calls = caf::typed_actor<
    caf::replies_to<combine_layers_atom, combine_layers_request>::with<caf::ok_atom>,
    // RemoveCombinedLayers(root path).
    caf::replies_to<remove_layers_atom, std::string, std::string>::with<caf::ok_atom>>;

// What every device child answers besides its calls: its table, the VM's
// exit, its HCS completions and the retries of a rollback (by its token).
using device_child_base =
    caf::typed_actor<caf::replies_to<view_atom>::with<std::string>,
                     caf::reacts_to<vm_exit_atom, caf::error>,
                     caf::reacts_to<hcs_done_atom, uint64_t, hcs::call_result>,
                     caf::reacts_to<rollback_atom, uint64_t, uint32_t>>;

using vpmem_actor = device_child_base::extend_with<vpmem_calls>;
using share_actor = device_child_base::extend_with<share_calls>;
using network_actor = device_child_base::extend_with<network_calls>;
using vpci_actor = device_child_base::extend_with<vpci_calls>;
using layer_actor = device_child_base::extend_with<layer_calls>;

using utility_vm_actor = caf::typed_actor<
    // Create the compute system (CreateLCOW / CreateWCOW after validation).
    caf::replies_to<create_atom, std::string>::with<vm_info>,
    caf::replies_to<start_atom, std::string>::with<caf::ok_atom>,
    caf::replies_to<wait_atom>::with<caf::ok_atom>,
    caf::replies_to<terminate_atom, std::string>::with<caf::ok_atom>,
    caf::replies_to<shutdown_atom, std::string>::with<caf::ok_atom>,
    caf::replies_to<close_atom, std::string>::with<caf::ok_atom>,
    // ExitError(): ok, or the exit's error / `container not exited`.
    caf::replies_to<exit_err_atom>::with<caf::ok_atom>, caf::replies_to<info_atom>::with<vm_info>,
    caf::replies_to<stats_atom, std::string>::with<vm_stats>,
    caf::replies_to<counter_atom, counter_kind>::with<uint64_t>,
    caf::replies_to<children_atom>::with<std::vector<caf::actor_addr>>,
    caf::replies_to<view_atom>::with<std::string>,
    caf::replies_to<add_scsi_atom, scsi_add_request>::with<scsi_mount>,
    caf::replies_to<remove_scsi_atom, std::string, std::string>::with<caf::ok_atom>,
    caf::replies_to<scsi_path_atom, std::string>::with<std::string>,
    // The SCSI child, for callers that send it their SCSI calls directly
    // (one actor hop less per call). Only while the VM runs; once the VM
    // has stopped, calls to it fail with CAF's request_receiver_down
    // (errc::closed), and the VM itself answers why.
    caf::replies_to<scsi_ctl_atom>::with<scsi_actor>, caf::reacts_to<guest_fail_atom, uint32_t>,
    // From the GCS bridge child: the guest connection is gone (cause).
    caf::reacts_to<bridge_closed_atom, std::string>,
    // From the supervisor: re-create the system after an unexpected exit.
    caf::reacts_to<restart_atom>,
    // From the backend's callbacks, tagged with the system's generation.
    caf::reacts_to<hcs_done_atom, uint64_t, hcs::call_result>,
    caf::reacts_to<hcs_exit_atom, uint64_t, hcs::exit_info>>::extend_with<vpmem_calls>::
    extend_with<share_calls>::extend_with<network_calls>::extend_with<vpci_calls>::extend_with<
        layer_calls>::extend_with<guest_calls>;
using supervisor_actor =
    caf::typed_actor<caf::reacts_to<watch_atom, utility_vm_actor, std::string, restart_policy>,
                     // From a VM: it exited (id, unexpected, exit error, activity).
                     caf::reacts_to<vm_exit_atom, std::string, bool, std::string, std::string>,
                     caf::replies_to<exits_atom>::with<std::vector<exit_record>>>;

using registry_actor =
    caf::typed_actor<caf::replies_to<create_atom, options_lcow, restart_policy,
                                     std::string>::with<utility_vm_actor, vm_info>,
                     caf::replies_to<create_atom, options_wcow, restart_policy,
                                     std::string>::with<utility_vm_actor, vm_info>,
                     caf::replies_to<find_atom, std::string>::with<utility_vm_actor>,
                     caf::replies_to<list_atom>::with<std::vector<vm_info>>,
                     caf::reacts_to<forget_atom, std::string>>;

// uvm::error <-> caf::error. The text travels as the error's context so that
// a remote node sees the same words.
caf::error to_caf_error(const error& e);
inline caf::error to_caf_error(errc code) {
  return to_caf_error(error{code});
}
error from_caf_error(const caf::error& e);

// Registers the message types and the "uvm" error category; call on every
// node's config before the actor system starts.
void register_types(caf::actor_system_config& cfg);

} // namespace uvm
