#include "actors/engine.hpp"

#include <filesystem>
#include <thread>

#include "actors/blocking_call.hpp"
#include "actors/event_bus.hpp"
#include "actors/registry.hpp"
#include "actors/supervisor.hpp"
#include "hcs/executor.hpp"

namespace uvm {

// A closure for the dispatcher actor; never leaves the process.
struct dispatch_job {
  std::function<void(caf::event_based_actor*)> run;
};

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::dispatch_job)

namespace uvm {

namespace {

// A class rather than a function: CAF 0.17 binds a reference to a null
// argument tuple when it spawns a function actor without arguments, which
// UBSan rightly rejects.
class dispatcher : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {[this](const dispatch_job& job) { job.run(this); }};
  }
};

} // namespace

host_info detect_host() {
  host_info host;
  auto cpus = std::thread::hardware_concurrency();
  host.logical_cpus = cpus == 0 ? 1 : static_cast<int32_t>(cpus);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    host.executable_name = exe.filename().string();
    host.executable_dir = exe.parent_path().string();
  }
  return host;
}

// ---- utility_vm -----------------------------------------------------------

template <class... Ts>
error utility_vm::call_ok(std::chrono::milliseconds timeout, Ts&&... xs) {
  return uvm::call_ok(engine_->system(), actor_, timeout, std::forward<Ts>(xs)...);
}

template <class... Ts>
void utility_vm::call_ok_async(callback done, Ts&&... xs) {
  auto timeout = caf::duration{engine_->config().call_timeout};
  engine_->dispatch([actor = actor_, timeout, done = std::move(done),
                     msg = caf::make_message(std::forward<Ts>(xs)...)](auto* self) {
    self->request(caf::actor_cast<caf::actor>(actor), timeout, msg)
        .then([done](caf::ok_atom) { done({}); },
              [done](caf::error& e) { done(from_caf_error(e)); });
  });
}

error utility_vm::start(const std::string& activity) {
  return call_ok(engine_->config().call_timeout, start_atom_v, activity);
}

// Wait has no deadline: a VM may run for as long as it likes.
error utility_vm::wait() {
  return call_ok(std::chrono::milliseconds{0}, wait_atom_v);
}

error utility_vm::terminate(const std::string& activity) {
  return call_ok(engine_->config().call_timeout, terminate_atom_v, activity);
}

error utility_vm::shutdown(const std::string& activity) {
  return call_ok(engine_->config().call_timeout, shutdown_atom_v, activity);
}

error utility_vm::close(const std::string& activity) {
  auto e = call_ok(engine_->config().call_timeout, close_atom_v, activity);
  // Close is idempotent: a VM whose actor already ended is closed.
  if (e.code == errc::closed) {
    return {};
  }
  return e;
}

error utility_vm::exit_error() {
  return call_ok(engine_->config().call_timeout, exit_err_atom_v);
}

result<vm_stats> utility_vm::stats(const std::string& activity) {
  return call_value<vm_stats>(engine_->system(), actor_, engine_->config().call_timeout,
                              stats_atom_v, activity);
}

result<uint64_t> utility_vm::container_counter() {
  return call_value<uint64_t>(engine_->system(), actor_, engine_->config().call_timeout,
                              counter_atom_v, counter_kind::container);
}

result<uint64_t> utility_vm::uvm_mount_counter() {
  return call_value<uint64_t>(engine_->system(), actor_, engine_->config().call_timeout,
                              counter_atom_v, counter_kind::uvm_mount);
}

result<guest_process> utility_vm::create_process(const std::string& parameters,
                                                 const std::string& activity) {
  return start_guest_process(engine_->system(), actor_, engine_->config().call_timeout,
                             process_request{{}, parameters, activity});
}

result<guest_container> utility_vm::create_container(const std::string& id,
                                                     const std::string& config,
                                                     const std::string& activity) {
  auto timeout = engine_->config().call_timeout;
  if (auto e = call_ok(timeout, create_container_atom_v, id, config, activity)) {
    return e;
  }
  return guest_container{&engine_->system(), actor_, id, timeout};
}

result<std::string> utility_vm::dump_stacks(const std::string& activity) {
  return call_value<std::string>(engine_->system(), actor_, engine_->config().call_timeout,
                                 dump_stacks_atom_v, activity);
}

error utility_vm::delete_container_state(const std::string& container_id,
                                         const std::string& activity) {
  return call_ok(engine_->config().call_timeout, delete_state_atom_v, container_id, activity);
}

result<guest_capabilities_info> utility_vm::capabilities() {
  return call_value<guest_capabilities_info>(engine_->system(), actor_,
                                             engine_->config().call_timeout, capabilities_atom_v);
}

bool utility_vm::signal_process_supported() {
  auto caps = capabilities();
  return caps && caps->signal_process_supported;
}

bool utility_vm::delete_container_state_supported() {
  auto caps = capabilities();
  return caps && caps->delete_container_state_supported;
}

result<vm_info> utility_vm::info() {
  return call_value<vm_info>(engine_->system(), actor_, engine_->config().call_timeout,
                             info_atom_v);
}

result<std::string> utility_vm::device_view() {
  return call_value<std::string>(engine_->system(), actor_, engine_->config().call_timeout,
                                 view_atom_v);
}

result<scsi_mount> utility_vm::add_scsi(const std::string& host_path, const std::string& uvm_path,
                                        bool read_only, vm_access_type vm_access,
                                        const std::string& activity) {
  scsi_add_request req{host_path, uvm_path, read_only, vm_access, false, activity};
  return call_value<scsi_mount>(engine_->system(), actor_, engine_->config().call_timeout,
                                add_scsi_atom_v, std::move(req));
}

// AddSCSIPhysicalDisk always grants the VM individual access.
result<scsi_mount> utility_vm::add_scsi_physical_disk(const std::string& host_path,
                                                      const std::string& uvm_path, bool read_only,
                                                      const std::string& activity) {
  scsi_add_request req{host_path, uvm_path, read_only, vm_access_type::individual, true, activity};
  return call_value<scsi_mount>(engine_->system(), actor_, engine_->config().call_timeout,
                                add_scsi_atom_v, std::move(req));
}

error utility_vm::remove_scsi(const std::string& host_path, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_scsi_atom_v, host_path, activity);
}

result<vm_devices> utility_vm::devices() {
  return call_value<vm_devices>(engine_->system(), actor_, engine_->config().call_timeout,
                                devices_atom_v);
}

result<std::string> utility_vm::get_scsi_uvm_path(const std::string& host_path) {
  return call_value<std::string>(engine_->system(), actor_, engine_->config().call_timeout,
                                 scsi_path_atom_v, host_path);
}

void utility_vm::guest_fail(uint32_t count) {
  caf::anon_send(actor_, guest_fail_atom_v, count);
}

template <class T, class... Ts>
result<T> utility_vm::call(Ts&&... xs) {
  return call_value<T>(engine_->system(), actor_, engine_->config().call_timeout,
                       std::forward<Ts>(xs)...);
}

result<std::string> utility_vm::add_vpmem(const std::string& host_path,
                                          const std::string& activity) {
  return call<std::string>(add_vpmem_atom_v, host_path, activity);
}

error utility_vm::remove_vpmem(const std::string& host_path, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_vpmem_atom_v, host_path, activity);
}

result<vsmb_share_handle> utility_vm::add_vsmb(const std::string& host_path,
                                               const hcs::virtual_smb_share_options& options,
                                               const std::string& activity) {
  return call<vsmb_share_handle>(add_vsmb_atom_v, vsmb_add_request{host_path, options, activity});
}

error utility_vm::remove_vsmb(const std::string& host_path, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_vsmb_atom_v, host_path, activity);
}

result<std::string> utility_vm::get_vsmb_uvm_path(const std::string& host_path) {
  return call<std::string>(vsmb_path_atom_v, host_path);
}

result<plan9_share_handle> utility_vm::add_plan9(const std::string& host_path,
                                                 const std::string& uvm_path, bool read_only,
                                                 bool restrict_access,
                                                 const std::vector<std::string>& allowed_names,
                                                 const std::string& activity) {
  return call<plan9_share_handle>(
      add_plan9_atom_v,
      plan9_add_request{host_path, uvm_path, read_only, restrict_access, allowed_names, activity});
}

error utility_vm::remove_plan9(const plan9_share_handle& share, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_plan9_atom_v, share.name, activity);
}

error utility_vm::add_pipe(const std::string& host_path, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, add_pipe_atom_v, host_path, activity);
}

error utility_vm::remove_pipe(const std::string& host_path, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_pipe_atom_v, host_path, activity);
}

error utility_vm::add_net_ns(const std::string& id, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, add_netns_atom_v, id, activity);
}

error utility_vm::remove_net_ns(const std::string& id, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_netns_atom_v, id, activity);
}

error utility_vm::add_endpoints_to_ns(const std::string& id,
                                      const std::vector<hcs::network_endpoint>& endpoints,
                                      const std::string& activity) {
  return call_ok(engine_->config().call_timeout, add_endpoints_atom_v, id, endpoints, activity);
}

error utility_vm::remove_endpoints_from_ns(const std::string& id,
                                           const std::vector<hcs::network_endpoint>& endpoints,
                                           const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_endpoints_atom_v, id, endpoints, activity);
}

result<std::string> utility_vm::assign_device(const hcs::virtual_pci_device& device,
                                              const std::string& activity) {
  return call<std::string>(assign_device_atom_v, device, activity);
}

error utility_vm::remove_device(const std::string& id, const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_device_atom_v, id, activity);
}

error utility_vm::combine_layers_lcow(const std::vector<std::string>& layer_paths,
                                      const std::string& scratch_path,
                                      const std::string& rootfs_path, const std::string& activity) {
  combine_layers_request req;
  req.layer_paths = layer_paths;
  req.scratch_path = scratch_path;
  req.root_path = rootfs_path;
  req.activity_id = activity;
  return call_ok(engine_->config().call_timeout, combine_layers_atom_v, std::move(req));
}

error utility_vm::combine_layers_wcow(const std::vector<hcs::layer>& layers,
                                      const std::string& container_root_path,
                                      const std::string& activity) {
  combine_layers_request req;
  req.lcow = false;
  req.layers = layers;
  req.root_path = container_root_path;
  req.activity_id = activity;
  return call_ok(engine_->config().call_timeout, combine_layers_atom_v, std::move(req));
}

error utility_vm::remove_combined_layers(const std::string& rootfs_path,
                                         const std::string& activity) {
  return call_ok(engine_->config().call_timeout, remove_layers_atom_v, rootfs_path, activity);
}

void utility_vm::add_scsi(scsi_add_request req, std::function<void(result<scsi_mount>)> done) {
  auto timeout = caf::duration{engine_->config().call_timeout};
  engine_->dispatch(
      [actor = actor_, timeout, req = std::move(req), done = std::move(done)](auto* self) {
        self->request(caf::actor_cast<caf::actor>(actor), timeout, add_scsi_atom_v, req)
            .then([done](scsi_mount& m) { done(std::move(m)); },
                  [done](caf::error& e) { done(from_caf_error(e)); });
      });
}

void utility_vm::remove_scsi(const std::string& host_path, callback done,
                             const std::string& activity) {
  call_ok_async(std::move(done), remove_scsi_atom_v, host_path, activity);
}

void utility_vm::start(callback done, const std::string& activity) {
  call_ok_async(std::move(done), start_atom_v, activity);
}

void utility_vm::wait(callback done) {
  engine_->dispatch([actor = actor_, done = std::move(done)](auto* self) {
    self->request(caf::actor_cast<caf::actor>(actor), caf::infinite, wait_atom_v)
        .then([done](caf::ok_atom) { done({}); },
              [done](caf::error& e) { done(from_caf_error(e)); });
  });
}

void utility_vm::terminate(callback done, const std::string& activity) {
  call_ok_async(std::move(done), terminate_atom_v, activity);
}

void utility_vm::close(callback done, const std::string& activity) {
  call_ok_async(std::move(done), close_atom_v, activity);
}

// ---- engine ---------------------------------------------------------------

engine::engine(engine_config cfg) : cfg_(std::move(cfg)) {
  executor_ = hcs::make_thread_executor(cfg_.backend_threads);
  sim_ = std::make_shared<hcs::sim_backend>(executor_, cfg_.sim_seed);
  sim_->set_inline_completions(cfg_.sim_inline_completions);
  qemu_ = std::make_shared<hcs::qemu::qemu_backend>(cfg_.qemu);
  system_config_ = std::make_unique<caf::actor_system_config>();
  system_config_->set("scheduler.max-threads", cfg_.scheduler_threads);
  system_config_->set("scheduler.policy", caf::atom_from_string(cfg_.scheduler_policy));
  system_config_->set("work-stealing.moderate-sleep-duration", caf::timespan{cfg_.moderate_sleep});
  register_types(*system_config_);
  system_ = std::make_unique<caf::actor_system>(*system_config_);
  bus_ = make_event_bus(*system_, "uvm.events");
  supervisor_ = spawn_supervisor(*system_, bus_);
  vm_env env;
  env.backend = sim_;
  env.qemu = qemu_;
  env.default_backend = cfg_.backend;
  env.host = cfg_.host;
  env.fs = hcs::real_host_fs();
  env.bus = bus_;
  env.supervisor = supervisor_;
  env.bridge_log = bridge_log_;
  env.guest = cfg_.guest;
  env.bridge_rpc_timeout = cfg_.bridge_rpc_timeout;
  registry_ = spawn_registry(*system_, std::move(env));
  dispatcher_ = system_->spawn<dispatcher>();
}

engine::~engine() {
  // The registry takes its VMs (and their children) down with it.
  caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(supervisor_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(dispatcher_, caf::exit_reason::user_shutdown);
  registry_ = nullptr;
  supervisor_ = nullptr;
  dispatcher_ = nullptr;
  stop_event_bus(bus_);
  bus_ = caf::group{};
  system_.reset();
  // Backend threads stop only after every actor that could call them ended.
  sim_.reset();
  qemu_.reset();
  executor_.reset();
}

void engine::dispatch(std::function<void(caf::event_based_actor*)> job) {
  caf::anon_send(dispatcher_, dispatch_job{std::move(job)});
}

template <class Options>
result<utility_vm> engine::create_blocking(Options opts, restart_policy policy,
                                           const std::string& activity) {
  caf::scoped_actor self{*system_};
  std::optional<result<utility_vm>> out;
  self->request(registry_, caf::duration{cfg_.call_timeout}, create_atom_v, std::move(opts), policy,
                activity)
      .receive(
          [&](utility_vm_actor& vm, vm_info& info) {
            out.emplace(utility_vm{this, std::move(vm), std::move(info)});
          },
          [&](caf::error& e) { out.emplace(from_caf_error(e)); });
  return std::move(*out);
}

template <class Options>
void engine::create_async(Options opts, restart_policy policy,
                          std::function<void(result<utility_vm>)> done) {
  auto timeout = caf::duration{cfg_.call_timeout};
  dispatch([this, reg = registry_, timeout, opts = std::move(opts), policy,
            done = std::move(done)](auto* self) {
    self->request(caf::actor_cast<caf::actor>(reg), timeout, create_atom_v, opts, policy,
                  std::string{})
        .then(
            [this, done](utility_vm_actor& vm, vm_info& info) {
              done(utility_vm{this, std::move(vm), std::move(info)});
            },
            [done](caf::error& e) { done(from_caf_error(e)); });
  });
}

result<utility_vm> engine::create_lcow(options_lcow opts, restart_policy policy,
                                       const std::string& activity) {
  return create_blocking(std::move(opts), policy, activity);
}

result<utility_vm> engine::create_wcow(options_wcow opts, restart_policy policy,
                                       const std::string& activity) {
  return create_blocking(std::move(opts), policy, activity);
}

void engine::create_lcow(options_lcow opts, restart_policy policy,
                         std::function<void(result<utility_vm>)> done) {
  create_async(std::move(opts), policy, std::move(done));
}

void engine::create_wcow(options_wcow opts, restart_policy policy,
                         std::function<void(result<utility_vm>)> done) {
  create_async(std::move(opts), policy, std::move(done));
}

result<utility_vm> engine::find(const std::string& id) {
  auto vm = call_value<utility_vm_actor>(*system_, registry_, cfg_.call_timeout, find_atom_v, id);
  if (!vm) {
    return vm.err();
  }
  auto info = call_value<vm_info>(*system_, *vm, cfg_.call_timeout, info_atom_v);
  if (!info) {
    return info.err();
  }
  return utility_vm{this, std::move(*vm), std::move(*info)};
}

result<std::vector<vm_info>> engine::list() {
  return call_value<std::vector<vm_info>>(*system_, registry_, cfg_.call_timeout, list_atom_v);
}

result<std::vector<exit_record>> engine::exits() {
  return call_value<std::vector<exit_record>>(*system_, supervisor_, cfg_.call_timeout,
                                              exits_atom_v);
}

} // namespace uvm
