// Embedding API: the engine a host agent links against. Each call exists in
// a blocking form (a scoped actor round trip, ~76 µs in CAF 0.17: fine for
// control paths) and an asynchronous form whose callback runs on the
// engine's dispatcher actor (a few µs: use it on hot paths), both through
// one mechanism (engine/call.hpp, the calls in engine/calls.hpp), and the
// typed actor handles are there for code that is itself an actor.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/core/log_rate_limit.hpp"
#include "actors/internal_calls.hpp"
#include "bridge/frame_log.hpp"
#include "bridge/io_loop.hpp"
#include "engine/descriptor_limit.hpp"
#include "engine/host_network.hpp"
#include "engine/utility_vm.hpp"
#include "hcs/qemu/qemu_backend.hpp"
#include "hcs/sim/sim_backend.hpp"
#include "messages/caf/registration.hpp"
#include "messages/caf/remote_calls.hpp"

namespace uvm {

class remote_link;

// Mutual TLS between nodes: this node's certificate and key, and the CA
// that signed its peers' certificates. All empty: plaintext.
struct tls_options {
  std::string certificate;
  std::string key;
  std::string ca_file;
  bool empty() const { return certificate.empty() && key.empty() && ca_file.empty(); }
};

// CAF networking for a node (uvmd) or a client (engine::connect).
struct network_config {
  bool enabled = false;
  tls_options tls;
  // Heartbeats on every connection; a peer silent for `peer_timeout` is
  // lost (a partition, a frozen process). A closed connection is noticed
  // at once.
  std::chrono::milliseconds heartbeat{100};
  std::chrono::milliseconds peer_timeout{600};
};

struct engine_config {
  host_info host;            // see detect_host()
  int scheduler_threads = 2; // CAF defaults to max(cores, 4)
  // "handoff" (engine/handoff_scheduler.hpp), or CAF's "stealing" or
  // "sharing".
  std::string scheduler_policy = "handoff";
  // How long an idle worker sleeps between polls once its aggressive
  // polling is over (work stealing; CAF's default is 50 µs), or one nap of
  // an idle handoff worker.
  std::chrono::microseconds moderate_sleep{50};
  // Work stealing: how long between polls once that is over too (CAF's
  // default is 10 ms: on a lightly loaded engine, a message that finds
  // every worker in that sleep waits up to 10 ms for each hop of a call).
  // Handoff: how often a sleeping worker looks for a job left in a busy
  // worker's slot.
  std::chrono::microseconds relaxed_sleep{1000};
  int backend_threads = 1; // the simulator's timer threads
  // The threads of the I/O loop that serves every bridge connection and
  // the in-process guest agents (bridge/io_loop.hpp), whatever the number
  // of VMs.
  unsigned io_threads = 2;
  // Zero-latency simulator calls complete inside the call instead of on a
  // timer thread (see sim_backend::set_inline_completions); the device
  // children then handle the result in the same turn, without a message
  // to themselves (actors/core/completion_inbox.hpp).
  bool sim_inline_completions = false;
  uint64_t sim_seed = 1; // latency and fault randomness
  // How long a caller waits for a call at most: never less than the
  // engine's own deadline inside the call (the bridge RPC's, below) plus
  // `cleanup_margin`, so that the engine's deadline fires first, undoes
  // what the call began, and the caller hears the engine's error naming
  // the RPC that timed out rather than a bare "request timed out".
  std::chrono::milliseconds call_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds cleanup_margin{std::chrono::seconds(30)};
  // Admission control: the device and guest calls one VM may have
  // accepted and not yet answered, and all VMs' together; a call past
  // either limit fails at once with errc::busy (counted in vm_info).
  uint32_t vm_call_limit = 1024;
  uint64_t engine_call_limit = 262144;
  // How fast each VM's guest may fill the engine's log through the default
  // output handler (actors/core/guest_log.hpp): 200 entries a second after
  // a burst of 2000; what is refused is counted in a warning.
  logging::log_rate guest_log_rate;
  // How many exits the supervisor keeps for exits() (the most recent).
  size_t exit_history = 10000;
  // The guest agent of LCOW VMs (see vm_env::guest) and the deadline of
  // each bridge RPC.
  std::string guest = "in-process";
  std::chrono::milliseconds bridge_rpc_timeout{std::chrono::minutes(5)};
  // The HCS backend of VMs whose options name none: "sim" or "qemu" (real
  // VMs; their guest is reached through QEMU, whatever `guest` says).
  std::string backend = "sim";
  hcs::qemu::backend_config qemu;
  network_config network;
  // Count calls, VMs by state, restarts, exits, bridge RPCs and remote
  // clients (metrics/engine_metrics.hpp; uvmd serves them to Prometheus).
  // Off: the hot path tests a null pointer and does nothing else.
  bool metrics = false;
};

// The real host's facts: logical CPUs, executable name and folder.
host_info detect_host();

class engine {
public:
  explicit engine(engine_config cfg = {});
  ~engine();
  // The engine a node (uvmd) runs, through the same handles: every call
  // crosses the network, a call pending when the node is lost fails at
  // once with "node HOST:PORT lost: <why>", and the next call after a loss
  // connects again. `tls` empty: plaintext (a node allows it on loopback
  // only). `local` configures this side (scheduler, timeouts).
  static result<std::unique_ptr<engine>> connect(const std::string& host, uint16_t port,
                                                 const tls_options& tls, engine_config local = {});
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Actors an embedder spawns here must end before the engine does: the
  // actor system waits for every actor when it shuts down.
  caf::actor_system& system() { return *system_; }
  // The local simulator; a connected engine has none (control_sim reaches
  // the node's).
  hcs::sim_backend& sim() { return *sim_; }
  bool has_local_sim() const { return sim_ != nullptr; }
  // One control of the simulated HCS: the oracle's JSON for kind::oracle.
  result<std::string> control_sim(const sim_control& c);
  // "HOST:PORT" of the node a connected engine drives, else "".
  std::string node() const;
  hcs::qemu::qemu_backend& qemu() { return *qemu_; }
  // Every bridge message of every VM, as JSON lines (uvmctl --bridge-log);
  // an empty function stops it.
  void set_bridge_log(bridge::frame_log::sink sink) { bridge_log_->set(std::move(sink)); }
  registry_actor registry() const { return registry_; }
  supervisor_actor supervisor() const { return supervisor_; }
  // The event bus ("uvm.events"); join it with an untyped actor.
  const caf::group& events() const { return bus_; }
  const engine_config& config() const { return cfg_; }
  // The engine's metrics; null when config().metrics is off or the engine
  // is connected to a node (the node keeps them).
  metrics::engine_metrics* metrics() const { return metrics_.get(); }
  // The mailbox depths of every VM (its actor and its children) now; none
  // when the registry does not answer within `timeout`.
  std::optional<metrics::mailbox_sample> sample_mailboxes(std::chrono::milliseconds timeout);
  // RLIMIT_NOFILE as the engine found and raised it.
  const descriptor_limit& descriptors() const { return descriptors_; }

  // CreateLCOW / CreateWCOW.
  result<utility_vm> create_lcow(options_lcow opts, restart_policy policy = {},
                                 const std::string& activity = {});
  result<utility_vm> create_wcow(options_wcow opts, restart_policy policy = {},
                                 const std::string& activity = {});
  // Asynchronous forms; past the caller's `due` (none: caller_wait()),
  // `done` gets errc::deadline_exceeded and a VM created later is closed.
  void create_lcow(options_lcow opts, restart_policy policy,
                   std::function<void(result<utility_vm>)> done, utility_vm::deadline due = {});
  void create_wcow(options_wcow opts, restart_policy policy,
                   std::function<void(result<utility_vm>)> done, utility_vm::deadline due = {});

  result<utility_vm> find(const std::string& id);
  result<std::vector<vm_info>> list();
  result<std::vector<exit_record>> exits();

  // Any engine call (engine/calls.hpp: create_lcow, create_wcow, find,
  // list, exits, setup_network_endpoints), blocking or asynchronous as
  // utility_vm::call. A connected engine whose node was lost connects
  // again first.
  template <class C>
  call_outcome_t<C> call(const C& c) {
    reconnect_if_lost();
    return call_blocking(*this, c);
  }
  template <class C>
  void call(C c, std::function<void(call_outcome_t<C>)> done, utility_vm::deadline due = {}) {
    reconnect_if_lost();
    call_async(*this, std::move(c), std::move(done), due);
  }
  call_site site() const {
    return {const_cast<engine*>(this), caf::actor_cast<caf::actor>(registry_), {}};
  }

  // The host's network namespaces and endpoints (host_network.hpp), and
  // NetworkEndpoints over them: the namespace `ns` (made unless it
  // exists) with `endpoint_ids` attached; its release() cleans them up.
  host_network& hns() { return *hns_; }
  result<resource::network_endpoints>
  setup_network_endpoints(const std::string& ns, const std::vector<std::string>& endpoint_ids);
  std::shared_ptr<host_network> hns_handle() const { return hns_; }

  // How long a caller waits: max(call_timeout, bridge_rpc_timeout +
  // cleanup_margin) (engine_config::call_timeout).
  std::chrono::milliseconds caller_wait() const;
  // Runs `job` on the dispatcher actor: the plumbing of the async forms.
  void dispatch(std::function<void(caf::event_based_actor*)> job);
  // Asynchronous calls that succeeded after their caller's deadline:
  // released again (a disk's reference given back, a VM closed, ...) or
  // kept (engine/late_undo.hpp says which).
  struct late_replies_count {
    uint64_t undone = 0;
    uint64_t kept = 0;
  };
  late_replies_count late_replies() const { return {late_->undone.load(), late_->kept.load()}; }

private:
  struct remote_tag {};
  engine(remote_tag, engine_config cfg);
  void make_system();
  // A connected engine whose node was lost connects again first.
  void reconnect_if_lost();

  engine_config cfg_;
  descriptor_limit descriptors_;
  std::shared_ptr<bridge::io_loop> io_;
  std::shared_ptr<hcs::executor> executor_;
  std::shared_ptr<hcs::sim_backend> sim_;
  std::shared_ptr<hcs::qemu::qemu_backend> qemu_;
  std::shared_ptr<bridge::frame_log> bridge_log_ = std::make_shared<bridge::frame_log>();
  std::shared_ptr<metrics::engine_metrics> metrics_;
  std::unique_ptr<caf::actor_system_config> system_config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::group bus_;
  supervisor_internal supervisor_;
  registry_internal registry_;
  std::shared_ptr<late_reply_counts> late_ = std::make_shared<late_reply_counts>();
  std::shared_ptr<host_network> hns_ = std::make_shared<host_network>();
  caf::actor dispatcher_;
  std::unique_ptr<remote_link> remote_;
};

} // namespace uvm
