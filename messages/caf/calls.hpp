// The calls callers make on the engine's actors, as CAF atoms, and what
// each device or guest call says it cannot do while its VM is not running
// ("utility VM vm1 is stopping: cannot add a SCSI disk"): the VM and the
// child that answers the call give the same words. Messages the actors
// send each other (completions, exits, frames, timeouts) are not here:
// they are private to actors/ (actors/internal_calls.hpp).
#pragma once

#include <caf/atom.hpp>

// Lifecycle and introspection of a VM, the registry and the supervisor.
CAF_ADD_ATOM(uvm, uvm, start_atom, "start")
CAF_ADD_ATOM(uvm, uvm, wait_atom, "wait")
CAF_ADD_ATOM(uvm, uvm, terminate_atom, "terminate")
CAF_ADD_ATOM(uvm, uvm, shutdown_atom, "shutdown")
CAF_ADD_ATOM(uvm, uvm, close_atom, "close")
CAF_ADD_ATOM(uvm, uvm, exit_err_atom, "exit_err")
CAF_ADD_ATOM(uvm, uvm, info_atom, "info")
CAF_ADD_ATOM(uvm, uvm, stats_atom, "stats")
CAF_ADD_ATOM(uvm, uvm, counter_atom, "counter")
CAF_ADD_ATOM(uvm, uvm, view_atom, "view")
CAF_ADD_ATOM(uvm, uvm, children_atom, "children")
CAF_ADD_ATOM(uvm, uvm, devices_atom, "devices")
CAF_ADD_ATOM(uvm, uvm, guest_fail_atom, "guest_fail")
CAF_ADD_ATOM(uvm, uvm, create_atom, "create")
CAF_ADD_ATOM(uvm, uvm, find_atom, "find")
CAF_ADD_ATOM(uvm, uvm, list_atom, "list")
CAF_ADD_ATOM(uvm, uvm, exits_atom, "exits")
CAF_ADD_ATOM(uvm, uvm, update_memory_atom, "upd_mem")
CAF_ADD_ATOM(uvm, uvm, update_cpu_atom, "upd_cpu")

// Device calls.
CAF_ADD_ATOM(uvm, uvm, add_scsi_atom, "add_scsi")
CAF_ADD_ATOM(uvm, uvm, remove_scsi_atom, "rm_scsi")
CAF_ADD_ATOM(uvm, uvm, scsi_path_atom, "scsi_path")
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

// Containers and processes in the guest.
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

namespace uvm {

// What a call cannot do while its VM is not running; one per device and
// guest call that has a reply.
template <class Atom>
constexpr const char* call_what = nullptr;

template <>
inline constexpr const char* call_what<add_scsi_atom> = "add a SCSI disk";
template <>
inline constexpr const char* call_what<remove_scsi_atom> = "remove a SCSI disk";
template <>
inline constexpr const char* call_what<scsi_path_atom> = "look up a SCSI disk";
template <>
inline constexpr const char* call_what<add_vpmem_atom> = "add a VPMEM device";
template <>
inline constexpr const char* call_what<remove_vpmem_atom> = "remove a VPMEM device";
template <>
inline constexpr const char* call_what<add_vsmb_atom> = "add a VSMB share";
template <>
inline constexpr const char* call_what<remove_vsmb_atom> = "remove a VSMB share";
template <>
inline constexpr const char* call_what<vsmb_path_atom> = "look up a VSMB share";
template <>
inline constexpr const char* call_what<add_plan9_atom> = "add a Plan9 share";
template <>
inline constexpr const char* call_what<remove_plan9_atom> = "remove a Plan9 share";
template <>
inline constexpr const char* call_what<add_pipe_atom> = "add a named pipe";
template <>
inline constexpr const char* call_what<remove_pipe_atom> = "remove a named pipe";
template <>
inline constexpr const char* call_what<add_netns_atom> = "add a network namespace";
template <>
inline constexpr const char* call_what<remove_netns_atom> = "remove a network namespace";
template <>
inline constexpr const char* call_what<add_endpoints_atom> = "add network endpoints";
template <>
inline constexpr const char* call_what<remove_endpoints_atom> = "remove network endpoints";
template <>
inline constexpr const char* call_what<assign_device_atom> = "assign a VPCI device";
template <>
inline constexpr const char* call_what<remove_device_atom> = "remove a VPCI device";
template <>
inline constexpr const char* call_what<combine_layers_atom> = "combine layers";
template <>
inline constexpr const char* call_what<remove_layers_atom> = "remove combined layers";
template <>
inline constexpr const char* call_what<exec_process_atom> = "create a process";
template <>
inline constexpr const char* call_what<wait_process_atom> = "wait for a process";
template <>
inline constexpr const char* call_what<signal_process_atom> = "signal a process";
template <>
inline constexpr const char* call_what<resize_console_atom> = "resize a console";
template <>
inline constexpr const char* call_what<create_container_atom> = "create a container";
template <>
inline constexpr const char* call_what<start_container_atom> = "start a container";
template <>
inline constexpr const char* call_what<stop_container_atom> = "stop a container";
template <>
inline constexpr const char* call_what<wait_container_atom> = "wait for a container";
template <>
inline constexpr const char* call_what<dump_stacks_atom> = "dump stacks";
template <>
inline constexpr const char* call_what<delete_state_atom> = "delete container state";
template <>
inline constexpr const char* call_what<capabilities_atom> = "read the guest's capabilities";

} // namespace uvm
