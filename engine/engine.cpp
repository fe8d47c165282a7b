#include "engine/engine.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "actors/core/logging.hpp"
#include "actors/event_bus.hpp"
#include "actors/registry.hpp"
#include "actors/supervisor.hpp"
#include "engine/blocking_call.hpp"
#include "engine/calls.hpp"
#include "engine/dispatcher.hpp"
#include "engine/handoff_scheduler.hpp"
#include "engine/remote_link.hpp"
#include "engine/sim_control.hpp"
#include "engine/tls_guard.hpp"
#include "hcs/executor.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

namespace uvm {

namespace {

// $TMPDIR as std::filesystem reads it, or its own value when that is no
// directory: creating a relay folder in it then fails and names it.
std::string stdio_root() {
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  if (!ec) {
    return dir.string();
  }
  const char* env = std::getenv("TMPDIR");
  return env != nullptr && *env != '\0' ? env : "/tmp";
}

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

engine::engine(engine_config cfg) : cfg_(std::move(cfg)) {
  descriptors_ = raise_descriptor_limit();
  // Debug only: an unprivileged engine meets this on every start; a VM
  // that cannot get a descriptor names the limit in its error.
  logging::debug({}, "descriptor limit",
                 {{"before", std::to_string(descriptors_.before)},
                  {"now", std::to_string(descriptors_.now)},
                  {"note", descriptors_.note}});
  io_ = std::make_shared<bridge::io_loop>(std::max(cfg_.io_threads, 1u));
  executor_ = hcs::make_thread_executor(cfg_.backend_threads);
  sim_ = std::make_shared<hcs::sim_backend>(executor_, cfg_.sim_seed);
  sim_->set_inline_completions(cfg_.sim_inline_completions);
  qemu_ = std::make_shared<hcs::qemu::qemu_backend>(cfg_.qemu);
  if (cfg_.metrics) {
    metrics_ = std::make_shared<metrics::engine_metrics>();
  }
  make_system();
  bus_ = make_event_bus(*system_, "uvm.events");
  supervisor_ = spawn_supervisor(*system_, bus_, cfg_.exit_history);
  vm_env env;
  env.backend = sim_;
  env.qemu = qemu_;
  env.default_backend = cfg_.backend;
  env.host = cfg_.host;
  env.fs = hcs::real_host_fs();
  env.bus = bus_;
  env.supervisor = supervisor_;
  env.bridge_log = bridge_log_;
  env.io = io_;
  env.rpc_sweeps =
      std::make_shared<bridge::sweep_timer>(io_, bridge::sweep_resolution(cfg_.bridge_rpc_timeout));
  env.stdio_root = stdio_root();
  env.guest = cfg_.guest;
  env.bridge_rpc_timeout = cfg_.bridge_rpc_timeout;
  env.vm_call_limit = cfg_.vm_call_limit;
  env.guest_log_rate = cfg_.guest_log_rate;
  env.admission = std::make_shared<engine_admission>(cfg_.engine_call_limit);
  env.metrics = metrics_;
  registry_ = spawn_registry(*system_, std::move(env));
  dispatcher_ = system_->spawn<dispatcher>(late_);
}

engine::engine(remote_tag, engine_config cfg) : cfg_(std::move(cfg)) {
  cfg_.network.enabled = true;
  make_system();
  bus_ = make_event_bus(*system_, "uvm.events");
  dispatcher_ = system_->spawn<dispatcher>(late_);
}

void engine::make_system() {
  system_config_ = std::make_unique<caf::actor_system_config>();
  system_config_->set("scheduler.max-threads", cfg_.scheduler_threads);
  if (cfg_.scheduler_policy == "handoff") {
    handoff_scheduler::install(*system_config_, cfg_.moderate_sleep, cfg_.relaxed_sleep);
  } else {
    system_config_->set("scheduler.policy", caf::atom_from_string(cfg_.scheduler_policy));
  }
  system_config_->set("work-stealing.moderate-sleep-duration", caf::timespan{cfg_.moderate_sleep});
  system_config_->set("work-stealing.relaxed-sleep-duration", caf::timespan{cfg_.relaxed_sleep});
  if (cfg_.network.enabled) {
    system_config_->load<caf::io::middleman>();
    system_config_->set("middleman.heartbeat-interval", caf::timespan{cfg_.network.heartbeat});
    system_config_->set("middleman.connection-timeout", caf::timespan{cfg_.network.peer_timeout});
    const auto& tls = cfg_.network.tls;
    if (!tls.empty()) {
      if (!tls::guard_active()) {
        throw std::runtime_error{"the engine's TLS wrappers are not in place: link the "
                                 "executable with uvm_engine's link options"};
      }
      system_config_->load<caf::openssl::manager>();
      system_config_->openssl_certificate = tls.certificate;
      system_config_->openssl_key = tls.key;
      system_config_->openssl_cafile = tls.ca_file;
    }
  }
  register_types(*system_config_);
  system_ = std::make_unique<caf::actor_system>(*system_config_);
}

result<std::unique_ptr<engine>> engine::connect(const std::string& host, uint16_t port,
                                                const tls_options& tls, engine_config local) {
  local.network.tls = tls;
  std::unique_ptr<engine> eng{new engine{remote_tag{}, std::move(local)}};
  auto link =
      remote_link::open(*eng->system_, host, port, !tls.empty(), eng->bus_, eng->caller_wait());
  if (!link) {
    return link.err();
  }
  eng->remote_ = std::move(*link);
  eng->registry_ = caf::actor_cast<registry_internal>(eng->remote_->root());
  eng->supervisor_ = caf::actor_cast<supervisor_internal>(eng->remote_->root());
  // Options are completed for the node's host (its boot files), owned by
  // the program that asks for the VM, as in an embedded engine.
  const auto& info = eng->remote_->info();
  auto owner = detect_host().executable_name;
  eng->cfg_.host = info.host;
  eng->cfg_.host.executable_name = owner;
  eng->cfg_.backend = info.backend;
  eng->cfg_.guest = info.guest;
  return eng;
}

std::string engine::node() const {
  return remote_ ? remote_->name() : std::string{};
}

void engine::reconnect_if_lost() {
  if (remote_) {
    remote_->reconnect_if_lost();
  }
}

result<std::string> engine::control_sim(const sim_control& c) {
  if (remote_) {
    reconnect_if_lost();
    return call_value<std::string>(*system_, remote_->root(), caller_wait(), sim_control_atom_v, c);
  }
  return apply_sim_control(*sim_, c);
}

std::optional<metrics::mailbox_sample> engine::sample_mailboxes(std::chrono::milliseconds timeout) {
  if (remote_) {
    return std::nullopt;
  }
  auto r =
      call_value<metrics::mailbox_sample>(*system_, registry_, timeout, mailbox_depth_request{});
  if (!r) {
    return std::nullopt;
  }
  return *r;
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
  remote_.reset();
  system_.reset();
  // The loop stops once no actor can write to it any more; what it still
  // queued (ends of connections) is dropped with it.
  io_.reset();
  // Backend threads stop only after every actor that could call them ended.
  sim_.reset();
  qemu_.reset();
  executor_.reset();
}

std::chrono::milliseconds engine::caller_wait() const {
  return std::max(cfg_.call_timeout, cfg_.bridge_rpc_timeout + cfg_.cleanup_margin);
}

void engine::dispatch(std::function<void(caf::event_based_actor*)> job) {
  caf::anon_send(dispatcher_, dispatch_job{std::move(job)});
}

result<utility_vm> engine::create_lcow(options_lcow opts, restart_policy policy,
                                       const std::string& activity) {
  return call(calls::create_lcow{std::move(opts), policy, activity});
}

result<utility_vm> engine::create_wcow(options_wcow opts, restart_policy policy,
                                       const std::string& activity) {
  return call(calls::create_wcow{std::move(opts), policy, activity});
}

void engine::create_lcow(options_lcow opts, restart_policy policy,
                         std::function<void(result<utility_vm>)> done, utility_vm::deadline due) {
  call(calls::create_lcow{std::move(opts), policy, {}}, std::move(done), due);
}

void engine::create_wcow(options_wcow opts, restart_policy policy,
                         std::function<void(result<utility_vm>)> done, utility_vm::deadline due) {
  call(calls::create_wcow{std::move(opts), policy, {}}, std::move(done), due);
}

result<utility_vm> engine::find(const std::string& id) {
  return call(calls::find{id});
}

result<std::vector<vm_info>> engine::list() {
  return call(calls::list{});
}

result<std::vector<exit_record>> engine::exits() {
  return call(calls::exits{});
}

result<resource::network_endpoints>
engine::setup_network_endpoints(const std::string& ns,
                                const std::vector<std::string>& endpoint_ids) {
  return call(calls::setup_network_endpoints{ns, endpoint_ids});
}

caf::actor_system& call_system(engine* eng) {
  return eng->system();
}

std::chrono::milliseconds call_wait(engine* eng) {
  return eng->caller_wait();
}

void call_dispatch(engine* eng, std::function<void(caf::event_based_actor*)> job) {
  eng->dispatch(std::move(job));
}

error call_deadline_exceeded(const char* name, const std::string& vm_id) {
  return {errc::deadline_exceeded,
          std::string{"deadline exceeded: "} + name +
              (vm_id.empty() ? " on the engine" : " on utility VM " + vm_id)};
}

} // namespace uvm
