// Embedding API: the engine a host agent links against. Each call exists in
// a blocking form (a scoped actor round trip, ~76 µs in CAF 0.17: fine for
// control paths) and an asynchronous form whose callback runs on the
// engine's dispatcher actor (a few µs: use it on hot paths), and the typed
// actor handles are there for code that is itself an actor.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/guest_handles.hpp"
#include "bridge/frame_log.hpp"
#include "hcs/qemu/qemu_backend.hpp"
#include "hcs/sim/sim_backend.hpp"
#include "messages/caf_types.hpp"

namespace uvm {

struct engine_config {
  host_info host;                            // see detect_host()
  int scheduler_threads = 2;                 // CAF defaults to max(cores, 4)
  std::string scheduler_policy = "stealing"; // or "sharing"
  // Work stealing: how long an idle worker sleeps between polls once its
  // aggressive polling is over (CAF's default is 50 µs).
  std::chrono::microseconds moderate_sleep{50};
  int backend_threads = 1; // the simulator's timer threads
  // Zero-latency simulator calls complete inside the call instead of on a
  // timer thread (see sim_backend::set_inline_completions); the device
  // children then handle the result at once, without a message to
  // themselves (hcs/inline_completion.hpp).
  bool sim_inline_completions = false;
  uint64_t sim_seed = 1; // latency and fault randomness
  std::chrono::milliseconds call_timeout{std::chrono::minutes(5)};
  // The guest agent of LCOW VMs (see vm_env::guest: "in-process" runs
  // processes sandboxed, "in-process-unconfined" on the host) and the
  // deadline of each bridge RPC.
  std::string guest = "in-process";
  std::chrono::milliseconds bridge_rpc_timeout{std::chrono::minutes(5)};
  // The HCS backend of VMs whose options name none: "sim" or "qemu" (real
  // VMs; their guest is reached through QEMU, whatever `guest` says).
  std::string backend = "sim";
  hcs::qemu::backend_config qemu;
};

// The real host's facts: logical CPUs, executable name and folder.
host_info detect_host();

class engine;

// A handle on one utility VM (hcsshim's *UtilityVM). Cheap to copy; valid
// while its engine lives.
class utility_vm {
public:
  using callback = std::function<void(const error&)>;

  utility_vm() = default;
  utility_vm(engine* eng, utility_vm_actor actor, vm_info info)
      : engine_(eng), actor_(std::move(actor)), info_(std::move(info)) {}

  // Fixed at create (ID(), OS(), IsOCI(), ProcessorCount()).
  const std::string& id() const { return info_.id; }
  const std::string& os() const { return info_.os; }
  const std::string& owner() const { return info_.owner; }
  bool is_oci() const { return info_.is_oci; }
  int32_t processor_count() const { return info_.processor_count; }
  const utility_vm_actor& actor() const { return actor_; }

  // Blocking forms.
  error start(const std::string& activity = {});
  error wait();
  error terminate(const std::string& activity = {});
  error shutdown(const std::string& activity = {});
  error close(const std::string& activity = {});
  error exit_error();
  result<vm_stats> stats(const std::string& activity = {});
  result<uint64_t> container_counter();
  result<uint64_t> uvm_mount_counter();
  result<vm_info> info();
  // The children's tables as JSON (the engine's view of its devices).
  result<std::string> device_view();

  // SCSI (uvm-api.md §7). A mount is released with remove_scsi(host_path).
  result<scsi_mount> add_scsi(const std::string& host_path, const std::string& uvm_path,
                              bool read_only, vm_access_type vm_access,
                              const std::string& activity = {});
  result<scsi_mount> add_scsi_physical_disk(const std::string& host_path,
                                            const std::string& uvm_path, bool read_only,
                                            const std::string& activity = {});
  error remove_scsi(const std::string& host_path, const std::string& activity = {});
  result<std::string> get_scsi_uvm_path(const std::string& host_path);
  // The SCSI child, for callers that send their SCSI calls to it directly
  // (scsi_ctl_atom: one actor hop less per call). Only while the VM runs.
  result<scsi_actor> scsi_controller();
  // The next `count` guest requests of this VM fail (fault injection for
  // the in-process guest).
  void guest_fail(uint32_t count);

  // VPMEM (§8, LCOW): the guest path /run/layers/p<N>; released with
  // remove_vpmem(host_path).
  result<std::string> add_vpmem(const std::string& host_path, const std::string& activity = {});
  error remove_vpmem(const std::string& host_path, const std::string& activity = {});

  // VSMB (§9, WCOW). A share is released with remove_vsmb(share.host_path).
  result<vsmb_share_handle> add_vsmb(const std::string& host_path,
                                     const hcs::virtual_smb_share_options& options,
                                     const std::string& activity = {});
  error remove_vsmb(const std::string& host_path, const std::string& activity = {});
  result<std::string> get_vsmb_uvm_path(const std::string& host_path);

  // Plan9 (§10, LCOW), ref-counted per identical share.
  result<plan9_share_handle> add_plan9(const std::string& host_path, const std::string& uvm_path,
                                       bool read_only, bool restrict_access,
                                       const std::vector<std::string>& allowed_names,
                                       const std::string& activity = {});
  error remove_plan9(const plan9_share_handle& share, const std::string& activity = {});

  // Named pipes (§12); is_pipe and the container mapping need no VM.
  error add_pipe(const std::string& host_path, const std::string& activity = {});
  error remove_pipe(const std::string& host_path, const std::string& activity = {});

  // Network namespaces and endpoints (§11).
  error add_net_ns(const std::string& id, const std::string& activity = {});
  error remove_net_ns(const std::string& id, const std::string& activity = {});
  error add_endpoints_to_ns(const std::string& id,
                            const std::vector<hcs::network_endpoint>& endpoints,
                            const std::string& activity = {});
  error remove_endpoints_from_ns(const std::string& id,
                                 const std::vector<hcs::network_endpoint>& endpoints,
                                 const std::string& activity = {});

  // VPCI (§13): the device's GUID, released with remove_device(id).
  result<std::string> assign_device(const hcs::virtual_pci_device& device,
                                    const std::string& activity = {});
  error remove_device(const std::string& id, const std::string& activity = {});

  // Combined layers (§13).
  error combine_layers_lcow(const std::vector<std::string>& layer_paths,
                            const std::string& scratch_path, const std::string& rootfs_path,
                            const std::string& activity = {});
  error combine_layers_wcow(const std::vector<hcs::layer>& layers,
                            const std::string& container_root_path,
                            const std::string& activity = {});
  error remove_combined_layers(const std::string& rootfs_path, const std::string& activity = {});

  // Containers and processes in the guest (§6), through the GCS bridge.
  // `parameters` is the ProcessParameters JSON object (see
  // process_parameters::to_json); its Create*Pipe members open stdio.
  result<guest_process> create_process(const std::string& parameters,
                                       const std::string& activity = {});
  result<guest_container> create_container(const std::string& id, const std::string& config,
                                           const std::string& activity = {});
  // The guest's stacks; empty when the guest cannot dump them.
  result<std::string> dump_stacks(const std::string& activity = {});
  error delete_container_state(const std::string& container_id, const std::string& activity = {});
  // Capabilities() and what follows from them (§15).
  result<guest_capabilities_info> capabilities();
  bool signal_process_supported();
  bool delete_container_state_supported();

  // Asynchronous forms.
  void start(callback done, const std::string& activity = {});
  void wait(callback done);
  void terminate(callback done, const std::string& activity = {});
  void close(callback done, const std::string& activity = {});
  void add_scsi(scsi_add_request req, std::function<void(result<scsi_mount>)> done);
  void remove_scsi(const std::string& host_path, callback done, const std::string& activity = {});

private:
  template <class T, class... Ts>
  result<T> call(Ts&&... xs);
  template <class... Ts>
  error call_ok(std::chrono::milliseconds timeout, Ts&&... xs);
  template <class... Ts>
  void call_ok_async(callback done, Ts&&... xs);

  engine* engine_ = nullptr;
  utility_vm_actor actor_;
  vm_info info_;
};

class engine {
public:
  explicit engine(engine_config cfg = {});
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Actors an embedder spawns here must end before the engine does: the
  // actor system waits for every actor when it shuts down.
  caf::actor_system& system() { return *system_; }
  hcs::sim_backend& sim() { return *sim_; }
  hcs::qemu::qemu_backend& qemu() { return *qemu_; }
  // Every bridge message of every VM, as JSON lines (uvmctl --bridge-log);
  // an empty function stops it.
  void set_bridge_log(bridge::frame_log::sink sink) { bridge_log_->set(std::move(sink)); }
  const registry_actor& registry() const { return registry_; }
  const supervisor_actor& supervisor() const { return supervisor_; }
  // The event bus ("uvm.events"); join it with an untyped actor.
  const caf::group& events() const { return bus_; }
  const engine_config& config() const { return cfg_; }

  // CreateLCOW / CreateWCOW.
  result<utility_vm> create_lcow(options_lcow opts, restart_policy policy = {},
                                 const std::string& activity = {});
  result<utility_vm> create_wcow(options_wcow opts, restart_policy policy = {},
                                 const std::string& activity = {});
  void create_lcow(options_lcow opts, restart_policy policy,
                   std::function<void(result<utility_vm>)> done);
  void create_wcow(options_wcow opts, restart_policy policy,
                   std::function<void(result<utility_vm>)> done);

  result<utility_vm> find(const std::string& id);
  result<std::vector<vm_info>> list();
  result<std::vector<exit_record>> exits();

  // Runs `job` on the dispatcher actor: the plumbing of the async forms.
  void dispatch(std::function<void(caf::event_based_actor*)> job);

private:
  template <class Options>
  result<utility_vm> create_blocking(Options opts, restart_policy policy,
                                     const std::string& activity);
  template <class Options>
  void create_async(Options opts, restart_policy policy,
                    std::function<void(result<utility_vm>)> done);

  engine_config cfg_;
  std::shared_ptr<hcs::executor> executor_;
  std::shared_ptr<hcs::sim_backend> sim_;
  std::shared_ptr<hcs::qemu::qemu_backend> qemu_;
  std::shared_ptr<bridge::frame_log> bridge_log_ = std::make_shared<bridge::frame_log>();
  std::unique_ptr<caf::actor_system_config> system_config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::group bus_;
  supervisor_actor supervisor_;
  registry_actor registry_;
  caf::actor dispatcher_;
};

} // namespace uvm
