// Every call of the embedding API, each described once (engine/call.hpp
// says what a description holds): its arguments, the message it sends,
// what answers it and how that becomes the public result. Any of them
// runs blocking or asynchronously on its handle:
//
//   auto m = vm.call(calls::add_scsi{{"/d/a.vhdx", "/run/a"}});         // blocking
//   vm.call(calls::add_scsi{{"/d/a.vhdx", "/run/a"}},
//           [](result<resource::scsi_mount> m) { ... }, due);          // asynchronous
//   proc.call(calls::process_signal{9}, [](result<bool> r) { ... });
//   eng.call(calls::list{}, [](result<std::vector<vm_info>> r) { ... });
//
// The named calls of utility_vm, guest_process, guest_container, engine
// and the resource handles are these. Every argument has an initializer,
// so trailing ones (the activity id) may be left out.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/engine.hpp"

namespace uvm::calls {

// Lifecycle (uvm-api.md §5).
struct start {
  static constexpr const char* name = "start";
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(start_atom_v, activity);
  }
};

// Wait has no deadline of the engine's: a VM runs as long as it likes.
struct wait {
  static constexpr const char* name = "wait";
  static constexpr bool waits = true;
  caf::message message(const utility_vm&) const { return caf::make_message(wait_atom_v); }
};

struct terminate {
  static constexpr const char* name = "terminate";
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(terminate_atom_v, activity);
  }
};

struct shutdown {
  static constexpr const char* name = "shutdown";
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(shutdown_atom_v, activity);
  }
};

// Close is idempotent: a VM whose actor already ended is closed.
struct close {
  static constexpr const char* name = "close";
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(close_atom_v, activity);
  }
  error fail(const utility_vm&, error e) const { return e.code == errc::closed ? error{} : e; }
};

struct exit_error {
  static constexpr const char* name = "exit_error";
  caf::message message(const utility_vm&) const { return caf::make_message(exit_err_atom_v); }
};

// Live resizing of a running VM: its memory (bytes, rounded as at
// create) and its processor limits.
struct update_memory {
  static constexpr const char* name = "update_memory";
  uint64_t bytes = 0;
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(update_memory_atom_v, bytes, activity);
  }
};

struct update_cpu_limits {
  static constexpr const char* name = "update_cpu_limits";
  cpu_limits limits = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(update_cpu_atom_v, limits, activity);
  }
};

struct stats {
  using reply = replies<vm_stats>;
  static constexpr const char* name = "stats";
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(stats_atom_v, activity);
  }
};

struct container_counter {
  using reply = replies<uint64_t>;
  static constexpr const char* name = "container_counter";
  caf::message message(const utility_vm&) const {
    return caf::make_message(counter_atom_v, counter_kind::container);
  }
};

struct uvm_mount_counter {
  using reply = replies<uint64_t>;
  static constexpr const char* name = "uvm_mount_counter";
  caf::message message(const utility_vm&) const {
    return caf::make_message(counter_atom_v, counter_kind::uvm_mount);
  }
};

struct info {
  using reply = replies<vm_info>;
  static constexpr const char* name = "info";
  caf::message message(const utility_vm&) const { return caf::make_message(info_atom_v); }
};

struct device_view {
  using reply = replies<std::string>;
  static constexpr const char* name = "device_view";
  caf::message message(const utility_vm&) const { return caf::make_message(view_atom_v); }
};

struct devices {
  using reply = replies<vm_devices>;
  static constexpr const char* name = "devices";
  caf::message message(const utility_vm&) const { return caf::make_message(devices_atom_v); }
};

// SCSI (§7): AddSCSI and AddSCSIPhysicalDisk (req.physical).
struct add_scsi {
  static constexpr const char* name = "add_scsi";
  using reply = replies<scsi_mount>;
  using outcome = result<resource::scsi_mount>;
  scsi_add_request req = {};
  caf::message message(const utility_vm&) const { return caf::make_message(add_scsi_atom_v, req); }
  outcome finish(const utility_vm& vm, scsi_mount m) const {
    return resource::scsi_mount{std::move(m), vm.site()};
  }
};

struct remove_scsi {
  static constexpr const char* name = "remove_scsi";
  std::string host_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_scsi_atom_v, host_path, activity);
  }
};

struct get_scsi_uvm_path {
  using reply = replies<std::string>;
  static constexpr const char* name = "get_scsi_uvm_path";
  std::string host_path = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(scsi_path_atom_v, host_path);
  }
};

// VPMEM (§8): the guest path.
struct add_vpmem {
  using reply = replies<std::string>;
  static constexpr const char* name = "add_vpmem";
  std::string host_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(add_vpmem_atom_v, host_path, activity);
  }
};

struct remove_vpmem {
  static constexpr const char* name = "remove_vpmem";
  std::string host_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_vpmem_atom_v, host_path, activity);
  }
};

// VSMB (§9).
struct add_vsmb {
  static constexpr const char* name = "add_vsmb";
  using reply = replies<vsmb_share_handle>;
  using outcome = result<resource::vsmb_share>;
  vsmb_add_request req = {};
  caf::message message(const utility_vm&) const { return caf::make_message(add_vsmb_atom_v, req); }
  outcome finish(const utility_vm& vm, vsmb_share_handle s) const {
    return resource::vsmb_share{std::move(s), vm.site()};
  }
};

struct remove_vsmb {
  static constexpr const char* name = "remove_vsmb";
  std::string host_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_vsmb_atom_v, host_path, activity);
  }
};

struct get_vsmb_uvm_path {
  using reply = replies<std::string>;
  static constexpr const char* name = "get_vsmb_uvm_path";
  std::string host_path = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(vsmb_path_atom_v, host_path);
  }
};

// Plan9 (§10).
struct add_plan9 {
  static constexpr const char* name = "add_plan9";
  using reply = replies<plan9_share_handle>;
  using outcome = result<resource::plan9_share>;
  plan9_add_request req = {};
  caf::message message(const utility_vm&) const { return caf::make_message(add_plan9_atom_v, req); }
  outcome finish(const utility_vm& vm, plan9_share_handle s) const {
    return resource::plan9_share{std::move(s), vm.site()};
  }
};

// RemovePlan9 by the share's name.
struct remove_plan9 {
  static constexpr const char* name = "remove_plan9";
  std::string share_name = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_plan9_atom_v, share_name, activity);
  }
};

// Named pipes (§12): AddPipe gives its PipeMount.
struct add_pipe {
  static constexpr const char* name = "add_pipe";
  using reply = replies<caf::ok_atom>;
  using outcome = result<resource::pipe_mount>;
  std::string host_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(add_pipe_atom_v, host_path, activity);
  }
  outcome finish(const utility_vm& vm, caf::ok_atom) const {
    return resource::pipe_mount{host_path, vm.site()};
  }
};

struct remove_pipe {
  static constexpr const char* name = "remove_pipe";
  std::string host_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_pipe_atom_v, host_path, activity);
  }
};

// Network namespaces and endpoints (§11).
struct add_net_ns {
  static constexpr const char* name = "add_net_ns";
  std::string id = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(add_netns_atom_v, id, activity);
  }
};

struct remove_net_ns {
  static constexpr const char* name = "remove_net_ns";
  std::string id = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_netns_atom_v, id, activity);
  }
};

struct add_endpoints_to_ns {
  static constexpr const char* name = "add_endpoints_to_ns";
  std::string id = {};
  std::vector<hcs::network_endpoint> endpoints = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(add_endpoints_atom_v, id, endpoints, activity);
  }
};

struct remove_endpoints_from_ns {
  static constexpr const char* name = "remove_endpoints_from_ns";
  std::string id = {};
  std::vector<hcs::network_endpoint> endpoints = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_endpoints_atom_v, id, endpoints, activity);
  }
};

// VPCI (§13): AssignDevice gives its VPCIDevice.
struct assign_device {
  static constexpr const char* name = "assign_device";
  using reply = replies<std::string>;
  using outcome = result<resource::vpci_device>;
  hcs::virtual_pci_device device = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(assign_device_atom_v, device, activity);
  }
  outcome finish(const utility_vm& vm, std::string id) const {
    return resource::vpci_device{std::move(id), vm.site()};
  }
};

struct remove_device {
  static constexpr const char* name = "remove_device";
  std::string id = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_device_atom_v, id, activity);
  }
};

// Combined layers (§13): CombineLayersLCOW or CombineLayersWCOW (req.lcow).
struct combine_layers {
  static constexpr const char* name = "combine_layers";
  combine_layers_request req = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(combine_layers_atom_v, req);
  }
};

struct remove_combined_layers {
  static constexpr const char* name = "remove_combined_layers";
  std::string rootfs_path = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(remove_layers_atom_v, rootfs_path, activity);
  }
};

// Containers and processes (§6). A process's stdio is set up by whoever
// answers (the bridge child here, a node's stand-in for a remote VM): its
// answer carries the host's channels, which the handle takes.
struct create_process {
  static constexpr const char* name = "create_process";
  using reply = replies<process_started>;
  using outcome = result<guest_process>;
  std::string parameters = {}; // the ProcessParameters JSON object
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(exec_process_atom_v, process_request{{}, parameters, activity});
  }
  outcome finish(const utility_vm& vm, process_started p) const {
    return make_guest_process(vm.site(), std::move(p));
  }
};

struct create_container {
  static constexpr const char* name = "create_container";
  using reply = replies<caf::ok_atom>;
  using outcome = result<guest_container>;
  std::string id = {};
  std::string config = {}; // the ContainerConfig JSON text
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(create_container_atom_v, id, config, activity);
  }
  outcome finish(const utility_vm& vm, caf::ok_atom) const {
    return guest_container{vm.site(), id};
  }
};

struct dump_stacks {
  using reply = replies<std::string>;
  static constexpr const char* name = "dump_stacks";
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(dump_stacks_atom_v, activity);
  }
};

struct delete_container_state {
  static constexpr const char* name = "delete_container_state";
  std::string container_id = {};
  std::string activity = {};
  caf::message message(const utility_vm&) const {
    return caf::make_message(delete_state_atom_v, container_id, activity);
  }
};

// Capabilities (§15), and the two flags read from them (false when the
// guest cannot say).
struct capabilities {
  using reply = replies<guest_capabilities_info>;
  static constexpr const char* name = "capabilities";
  caf::message message(const utility_vm&) const { return caf::make_message(capabilities_atom_v); }
};

struct signal_process_supported {
  static constexpr const char* name = "signal_process_supported";
  using reply = replies<guest_capabilities_info>;
  using outcome = bool;
  caf::message message(const utility_vm&) const { return caf::make_message(capabilities_atom_v); }
  bool finish(const utility_vm&, const guest_capabilities_info& c) const {
    return c.signal_process_supported;
  }
  bool fail(const utility_vm&, const error&) const { return false; }
};

struct delete_container_state_supported {
  static constexpr const char* name = "delete_container_state_supported";
  using reply = replies<guest_capabilities_info>;
  using outcome = bool;
  caf::message message(const utility_vm&) const { return caf::make_message(capabilities_atom_v); }
  bool finish(const utility_vm&, const guest_capabilities_info& c) const {
    return c.delete_container_state_supported;
  }
  bool fail(const utility_vm&, const error&) const { return false; }
};

// A process's calls (cow.Process), on its handle; an empty handle has
// no process.
inline error no_process(const guest_process& p) {
  return p.valid() ? error{} : error{errc::invalid_state, "no process"};
}

// The exit code, kept in the handle (exit_code()); no deadline of the
// engine's: a process runs as long as it likes.
struct process_wait {
  error refuse(const guest_process& p) const { return no_process(p); }
  static constexpr const char* name = "process_wait";
  static constexpr bool waits = true;
  using reply = replies<uint32_t>;
  using outcome = result<uint32_t>;
  caf::message message(const guest_process& p) const {
    return caf::make_message(wait_process_atom_v, p.container_id(), p.pid());
  }
  outcome finish(const guest_process& p, uint32_t code) const {
    p.record_exit(code);
    return code;
  }
};

// Delivered or not (an unknown process is not an error); 0 is Kill.
struct process_signal {
  error refuse(const guest_process& p) const { return no_process(p); }
  static constexpr const char* name = "process_signal";
  using reply = replies<bool>;
  using outcome = result<bool>;
  int32_t signo = 0;
  std::string activity = {};
  caf::message message(const guest_process& p) const {
    return caf::make_message(signal_process_atom_v, p.container_id(), p.pid(), signo, activity);
  }
  outcome finish(const guest_process&, bool delivered) const { return delivered; }
};

struct process_kill {
  error refuse(const guest_process& p) const { return no_process(p); }
  static constexpr const char* name = "process_kill";
  using reply = replies<bool>;
  using outcome = result<bool>;
  std::string activity = {};
  caf::message message(const guest_process& p) const {
    return caf::make_message(signal_process_atom_v, p.container_id(), p.pid(), int32_t{0},
                             activity);
  }
  outcome finish(const guest_process&, bool delivered) const { return delivered; }
};

struct process_resize_console {
  error refuse(const guest_process& p) const { return no_process(p); }
  static constexpr const char* name = "process_resize_console";
  using reply = replies<caf::ok_atom>;
  using outcome = error;
  uint16_t width = 0;
  uint16_t height = 0;
  std::string activity = {};
  caf::message message(const guest_process& p) const {
    return caf::make_message(resize_console_atom_v, p.container_id(), p.pid(), width, height,
                             activity);
  }
  error finish(const guest_process&, caf::ok_atom) const { return {}; }
};

// Closes the host's stdio channels (no actor call); the process runs on.
struct process_close {
  static constexpr const char* name = "process_close";
  static constexpr bool local = true;
  using outcome = error;
  error run(const guest_process& p) const {
    p.close_stdio();
    return {};
  }
};

// A container's calls (cow.Container), on its handle.
struct container_start {
  static constexpr const char* name = "container_start";
  std::string activity = {};
  caf::message message(const guest_container& c) const {
    return caf::make_message(start_container_atom_v, c.id(), activity);
  }
};

// ShutdownGraceful; a container already gone is stopped.
struct container_shutdown {
  static constexpr const char* name = "container_shutdown";
  std::string activity = {};
  caf::message message(const guest_container& c) const {
    return caf::make_message(stop_container_atom_v, c.id(), false, activity);
  }
};

struct container_terminate {
  static constexpr const char* name = "container_terminate";
  std::string activity = {};
  caf::message message(const guest_container& c) const {
    return caf::make_message(stop_container_atom_v, c.id(), true, activity);
  }
};

// Until the exit notification or the end of the bridge: no deadline of
// the engine's.
struct container_wait {
  static constexpr const char* name = "container_wait";
  static constexpr bool waits = true;
  caf::message message(const guest_container& c) const {
    return caf::make_message(wait_container_atom_v, c.id());
  }
};

// Parameters without OciProcess start the container's init process.
struct container_create_process {
  static constexpr const char* name = "container_create_process";
  using reply = replies<process_started>;
  using outcome = result<guest_process>;
  std::string parameters = {};
  std::string activity = {};
  caf::message message(const guest_container& c) const {
    return caf::make_message(exec_process_atom_v, process_request{c.id(), parameters, activity});
  }
  outcome finish(const guest_container& c, process_started p) const {
    return make_guest_process(c.site(), std::move(p));
  }
};

// The resource handles' Release (§3.6): the remove call of their VM; a
// failure is logged as a warning and returned.
struct release {
  static constexpr const char* name = "release";
  std::string activity = {};
  template <class H>
  caf::message message(const H& h) const {
    return h.release_message(activity);
  }
  template <class H>
  error fail(const H& h, error e) const {
    warn_release_failed(h.site().vm_id, activity, e);
    return e;
  }
  static void warn_release_failed(const std::string& vm_id, const std::string& activity,
                                  const error& e);
};

// NetworkEndpoints.Release (§11.6): the host's cleanup, no VM; errors are
// returned without logging.
struct release_network_endpoints {
  static constexpr const char* name = "release";
  static constexpr bool local = true;
  using outcome = error;
  error run(const resource::network_endpoints& h) const;
};

// The engine's calls: CreateLCOW / CreateWCOW and the registry's.
template <class Options>
struct create_call {
  static constexpr const char* name = "create";
  using reply = replies<utility_vm_actor, vm_info>;
  using outcome = result<utility_vm>;
  Options opts = {};
  restart_policy policy = {};
  std::string activity = {};
  caf::message message(const engine&) const {
    return caf::make_message(create_atom_v, opts, policy, activity);
  }
  outcome finish(const engine& eng, utility_vm_actor vm, vm_info i) const {
    return utility_vm{eng.site().eng, std::move(vm), std::move(i)};
  }
  std::string subject(const engine&) const { return opts.common.id; }
};
using create_lcow = create_call<options_lcow>;
using create_wcow = create_call<options_wcow>;

// The second step of find: the VM's info, which its handle keeps.
struct find_info {
  static constexpr const char* name = "find";
  using reply = replies<vm_info>;
  using outcome = result<utility_vm>;
  utility_vm_actor vm = {};
  caf::message message(const engine&) const { return caf::make_message(info_atom_v); }
  caf::actor target(const engine&) const { return caf::actor_cast<caf::actor>(vm); }
  outcome finish(const engine& eng, vm_info i) const {
    return utility_vm{eng.site().eng, vm, std::move(i)};
  }
};

// A VM by id.
struct find {
  static constexpr const char* name = "find";
  static constexpr bool chained = true;
  using reply = replies<utility_vm_actor>;
  using outcome = result<utility_vm>;
  std::string id = {};
  caf::message message(const engine&) const { return caf::make_message(find_atom_v, id); }
  find_info then(const engine&, utility_vm_actor vm) const { return {std::move(vm)}; }
  std::string subject(const engine&) const { return id; }
};

struct list {
  using reply = replies<std::vector<vm_info>>;
  static constexpr const char* name = "list";
  caf::message message(const engine&) const { return caf::make_message(list_atom_v); }
};

struct exits {
  using reply = replies<std::vector<exit_record>>;
  static constexpr const char* name = "exits";
  caf::message message(const engine&) const { return caf::make_message(exits_atom_v); }
  caf::actor target(const engine& eng) const {
    return caf::actor_cast<caf::actor>(eng.supervisor());
  }
};

// NetworkEndpoints for a host network namespace: the namespace is made
// (unless it exists) and each endpoint attached to it in the engine's
// host network (engine/host_network.hpp). No VM is involved.
struct setup_network_endpoints {
  static constexpr const char* name = "setup_network_endpoints";
  static constexpr bool local = true;
  using outcome = result<resource::network_endpoints>;
  std::string namespace_id = {};
  std::vector<std::string> endpoint_ids = {};
  outcome run(const engine& eng) const;
};

} // namespace uvm::calls
