// uvmd: one engine served to remote clients over CAF's middleman, with
// mutual TLS (or plaintext on 127.0.0.1 with --insecure-plaintext). Runs
// in the foreground; SIGTERM or SIGINT stops it: clients hear that the
// node stops (their calls fail with "node HOST:PORT lost: node shutting
// down"), the VMs are terminated, the exit code is 0. SIGHUP reads the
// log level from the --config file again. Under systemd it is a
// Type=notify service (tools/uvmd/service_notifier.hpp).
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <prometheus/exposer.h>

#include "actors/core/logging.hpp"
#include "engine/engine.hpp"
#include "engine/remote_node.hpp"
#include "engine/tls_guard.hpp"
#include "metrics/prometheus/engine_families.hpp"
#include "tools/uvmd/config_reload.hpp"
#include "tools/uvmd/service_notifier.hpp"
#include "uvm_version.hpp"

namespace {

int fail(const std::string& why) {
  std::cerr << "uvmd: " << why << "\n";
  return 2;
}

// "HOST:PORT" (the port after the last colon; [v6]:PORT too).
bool split_listen(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return false;
  }
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long p = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') {
      return false;
    }
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535) {
      return false;
    }
  }
  port = static_cast<uint16_t>(p);
  return true;
}

std::string readable(const std::string& what, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return what + " " + path + ": not a readable file";
  }
  return {};
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// --metrics-auth-file: one line `user:password`.
std::string read_credentials(const std::string& path, std::string& user, std::string& password) {
  if (auto e = readable("--metrics-auth-file", path); !e.empty()) {
    return e;
  }
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
    return "--metrics-auth-file " + path + ": its first line must be USER:PASSWORD";
  }
  user = line.substr(0, colon);
  password = line.substr(colon + 1);
  return {};
}

// The Prometheus endpoint: /metrics on its own two civetweb threads, which
// read the engine's atomics and ask the registry for mailbox depths.
struct metrics_endpoint {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<uvm::metrics::engine_collectable> collectable;
};

// SIGHUP: the log level the config file names now; the old one stays
// when the file cannot be read or names no valid level.
void reload_log_level(const std::string& config_path, uvm::logging::format fmt,
                      uvm::logging::level& current, uvm::uvmd::service_notifier& service) {
  service.reloading("reloading " + config_path);
  auto keep = [&](const std::string& why) {
    uvm::logging::warn({}, "SIGHUP: log level unchanged", {{"reason", why}});
    service.reloaded("reload failed: " + why);
  };
  if (config_path.empty()) {
    return keep("uvmd was started without --config");
  }
  auto name = uvm::uvmd::log_level_in_config(config_path);
  if (!name) {
    return keep(name.err().text);
  }
  uvm::logging::level next = uvm::logging::level::info;
  if (!name->empty() && !uvm::logging::parse_level(*name, next)) {
    return keep(config_path + ": log-level must be trace, debug, info, warn, error or off, got '" +
                *name + "'");
  }
  // A file without the key means the default, as at start.
  current = next;
  uvm::logging::init(fmt, current);
  auto shown = name->empty() ? std::string{"info"} : *name;
  // At the new level when it is above info: the line shows unless it is off.
  uvm::logging::log(std::max(current, uvm::logging::level::info), {}, "SIGHUP: log level reloaded",
                    {{"log_level", shown}, {"config", config_path}});
  service.reloaded("log level " + shown);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvmd: serves one utility-VM engine to remote clients (uvmctl --node, "
               "uvm::engine::connect) over CAF networking with mutual TLS"};
  std::string listen;
  uvm::tls_options tls;
  bool insecure_plaintext = false;
  std::string backend = "sim";
  std::string guest = "in-process";
  std::string log_format = "human";
  std::string log_level = "info";
  int heartbeat_ms = 100;
  int peer_timeout_ms = 600;
  int threads = 2;
  std::string sim_completions = "executor";
  std::string metrics_listen;
  std::string metrics_auth_file;
  bool insecure_metrics_any_address = false;
  uvm::engine_config defaults;
  uint32_t vm_call_limit = defaults.vm_call_limit;
  uint64_t engine_call_limit = defaults.engine_call_limit;
  uint32_t guest_log_rate = defaults.guest_log_rate.per_second;
  uint32_t guest_log_burst = defaults.guest_log_rate.burst;
  app.set_version_flag("--version", std::string{"uvmd "} + uvm::version_string);
  auto* config =
      app.set_config("--config", "",
                     "read options from a TOML file: one `name = value` line per long option "
                     "(strings quoted, flags true/false), e.g. listen = \"0.0.0.0:7400\"");
  app.add_option("--listen", listen, "HOST:PORT to serve on (port 0: any free port)")->required();
  app.add_option("--cert", tls.certificate, "this node's certificate (PEM)");
  app.add_option("--key", tls.key, "this node's private key (PEM, unencrypted)");
  app.add_option("--ca", tls.ca_file,
                 "the CA (PEM) that signed the clients' certificates; clients must present one");
  app.add_flag("--insecure-plaintext", insecure_plaintext,
               "no TLS: anyone who reaches the port drives the engine; listens on 127.0.0.1 only");
  app.add_option("--backend", backend, "the HCS backend of VMs whose options name none")
      ->check(CLI::IsMember({"sim", "qemu"}));
  bool qemu_unconfined_root = false;
  app.add_flag("--qemu-unconfined-root", qemu_unconfined_root,
               "QEMU keeps root and the engine's cgroup (default: a uid of its own, granted its "
               "disks by vm_access, in a cgroup of its own)");
  app.add_option("--guest", guest,
                 "the LCOW VMs' guest agent: in-process (sandboxed), in-process-unconfined, "
                 "exec:CMD, unix:PATH");
  app.add_option("--log-format", log_format, "log lines: human or json")
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "off"}));
  app.add_option("--heartbeat-ms", heartbeat_ms, "heartbeat interval on every connection")
      ->check(CLI::Range(10, 60000));
  app.add_option("--peer-timeout-ms", peer_timeout_ms,
                 "a peer silent this long is lost (keep it above the heartbeat)")
      ->check(CLI::Range(20, 600000));
  app.add_option("--threads", threads, "actor scheduler threads")->check(CLI::Range(1, 64));
  app.add_option("--sim-completions", sim_completions,
                 "how the simulated HCS completes a call that has no latency: on its timer "
                 "thread, as HCS calls back on a thread of its own (executor), or inside the "
                 "call, a thread hop less (inline)")
      ->check(CLI::IsMember({"executor", "inline"}));
  app.add_option("--metrics-listen", metrics_listen,
                 "HOST:PORT serving Prometheus metrics at /metrics (port 0: any free port); "
                 "loopback only unless --metrics-auth-file or --insecure-metrics-any-address");
  app.add_option("--metrics-auth-file", metrics_auth_file,
                 "a file whose first line is USER:PASSWORD: /metrics asks for HTTP basic auth");
  app.add_flag("--insecure-metrics-any-address", insecure_metrics_any_address,
               "serve /metrics without authentication on a non-loopback address");
  app.add_option("--vm-call-limit", vm_call_limit,
                 "device and guest calls one VM may have accepted and not yet answered; a "
                 "call past it fails at once with busy")
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--engine-call-limit", engine_call_limit, "the same bound over all VMs together")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  app.add_option("--guest-log-rate", guest_log_rate,
                 "entries a second each VM's guest may add to uvmd's log after its burst "
                 "(0: no bound); what is cut is counted in a warning")
      ->check(CLI::Range(0u, 1000000u));
  app.add_option("--guest-log-burst", guest_log_burst,
                 "entries each VM's guest may log at once before --guest-log-rate applies")
      ->check(CLI::Range(1u, 10000000u));
  CLI11_PARSE(app, argc, argv);

  uvm::logging::format fmt{};
  uvm::logging::level lvl{};
  uvm::logging::parse_format(log_format, fmt);
  uvm::logging::parse_level(log_level, lvl);
  uvm::logging::init(fmt, lvl);

  std::string host;
  uint16_t port = 0;
  if (!split_listen(listen, host, port)) {
    return fail("--listen must be HOST:PORT, got '" + listen + "'");
  }
  if (insecure_plaintext) {
    if (!tls.empty()) {
      return fail("--insecure-plaintext takes no --cert, --key or --ca");
    }
    if (host != "127.0.0.1" && host != "localhost") {
      return fail("--insecure-plaintext listens on 127.0.0.1 only, not " + host);
    }
    host = "127.0.0.1";
  } else {
    if (tls.certificate.empty() || tls.key.empty() || tls.ca_file.empty()) {
      return fail("mutual TLS needs --cert, --key and --ca (--insecure-plaintext serves "
                  "plaintext on 127.0.0.1 only)");
    }
    for (auto e : {readable("--cert", tls.certificate), readable("--key", tls.key),
                   readable("--ca", tls.ca_file)}) {
      if (!e.empty()) {
        return fail(e);
      }
    }
  }

  std::string metrics_host;
  uint16_t metrics_port = 0;
  std::string metrics_user;
  std::string metrics_password;
  if (!metrics_listen.empty()) {
    if (!split_listen(metrics_listen, metrics_host, metrics_port)) {
      return fail("--metrics-listen must be HOST:PORT, got '" + metrics_listen + "'");
    }
    if (!metrics_auth_file.empty()) {
      if (auto e = read_credentials(metrics_auth_file, metrics_user, metrics_password);
          !e.empty()) {
        return fail(e);
      }
    } else if (!is_loopback(metrics_host) && !insecure_metrics_any_address) {
      return fail("--metrics-listen " + metrics_listen +
                  " is not a loopback address: give --metrics-auth-file (basic auth) or "
                  "--insecure-metrics-any-address (anyone who reaches the port reads the metrics)");
    }
  } else if (!metrics_auth_file.empty() || insecure_metrics_any_address) {
    return fail("--metrics-auth-file and --insecure-metrics-any-address need --metrics-listen");
  }

  // Every thread the engine starts inherits this mask: the signals wait
  // for sigwait() below.
  sigset_t handled_signals;
  sigemptyset(&handled_signals);
  sigaddset(&handled_signals, SIGTERM);
  sigaddset(&handled_signals, SIGINT);
  sigaddset(&handled_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled_signals, nullptr);
  uvm::uvmd::service_notifier service;
  service.status("starting the engine");

  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.scheduler_threads = threads;
  cfg.sim_inline_completions = sim_completions == "inline";
  cfg.guest = guest;
  cfg.backend = backend;
  cfg.qemu.unconfined_root = qemu_unconfined_root;
  if (backend == "qemu") {
    cfg.host.executable_dir += "/qemu"; // as uvmctl run --backend qemu
  }
  cfg.network.enabled = true;
  cfg.network.tls = tls;
  cfg.network.heartbeat = std::chrono::milliseconds{heartbeat_ms};
  cfg.network.peer_timeout = std::chrono::milliseconds{peer_timeout_ms};
  cfg.metrics = !metrics_listen.empty();
  cfg.vm_call_limit = vm_call_limit;
  cfg.engine_call_limit = engine_call_limit;
  cfg.guest_log_rate = {guest_log_rate, guest_log_burst};
  // Each handshake a client makes, logged with its address (CAF reports none).
  std::atomic<unsigned long> refusals{0};
  std::atomic<uvm::metrics::engine_metrics*> counted{nullptr};
  uvm::tls::on_handshake([&refusals, &counted](const uvm::tls::handshake& h) {
    if (h.accepted) {
      uvm::logging::info({}, "TLS peer accepted", {{"peer", h.peer}, {"subject", h.detail}});
    } else {
      ++refusals;
      if (auto* m = counted.load()) {
        m->tls_refused();
      }
      uvm::logging::warn({}, "TLS handshake refused", {{"peer", h.peer}, {"reason", h.detail}});
    }
  });
  std::unique_ptr<uvm::engine> eng;
  try {
    eng = std::make_unique<uvm::engine>(cfg);
  } catch (const std::exception& e) {
    return fail(std::string{"cannot start the engine: "} + e.what());
  }
  counted = eng->metrics();
  metrics_endpoint metrics;
  if (!metrics_listen.empty()) {
    auto* raw = eng.get();
    metrics.collectable = std::make_shared<uvm::metrics::engine_collectable>(
        *eng->metrics(), [raw] { return raw->sample_mailboxes(std::chrono::seconds(3)); });
    // civetweb: "[v6]:port" or "v4:port"; two threads, whatever the scrapers.
    auto bind = metrics_host.find(':') != std::string::npos
                    ? "[" + metrics_host + "]:" + std::to_string(metrics_port)
                    : metrics_host + ":" + std::to_string(metrics_port);
    try {
      metrics.exposer = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
          "listening_ports", bind, "num_threads", "2", "request_timeout_ms", "10000"});
    } catch (const std::exception& e) {
      return fail("cannot serve metrics on " + metrics_listen + ": " + e.what());
    }
    if (!metrics_user.empty()) {
      metrics.exposer->RegisterAuth(
          [metrics_user, metrics_password](const std::string& u, const std::string& p) {
            return u == metrics_user && p == metrics_password;
          },
          "uvmd metrics");
    }
    metrics.exposer->RegisterCollectable(metrics.collectable);
  }
  auto node = uvm::spawn_node(*eng);
  auto published = caf::actor_cast<uvm::node_actor>(node);
  auto bound = tls.empty() ? eng->system().middleman().publish(published, port, host.c_str(), true)
                           : caf::openssl::publish(published, port, host.c_str(), true);
  if (!bound) {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return fail("cannot listen on " + listen + ": " + eng->system().render(bound.error()));
  }
  auto address = host + ":" + std::to_string(*bound);
  uvm::logging::info(
      {}, "uvmd listening",
      {{"address", address}, {"tls", !tls.empty()}, {"backend", backend}, {"guest", guest}});
  // For scripts that asked for port 0.
  std::cout << "listening " << address << std::endl;
  if (metrics.exposer) {
    auto ports = metrics.exposer->GetListeningPorts();
    auto metrics_address =
        metrics_host + ":" + std::to_string(ports.empty() ? int{metrics_port} : ports.front());
    uvm::logging::info({}, "uvmd serving metrics",
                       {{"address", metrics_address}, {"auth", !metrics_user.empty()}});
    std::cout << "metrics " << metrics_address << std::endl;
  }
  // The watchdog's probe: a round trip to the registry actor.
  service.ready(address, [&eng]() -> std::optional<size_t> {
    auto vms = eng->list();
    if (!vms) {
      return std::nullopt;
    }
    return vms->size();
  });

  int sig = 0;
  std::string config_path = config->count() > 0 ? config->as<std::string>() : std::string{};
  while (sigwait(&handled_signals, &sig) == 0 && sig == SIGHUP) {
    reload_log_level(config_path, fmt, lvl, service);
  }
  service.stopping(std::string{"stopping: "} + strsignal(sig));
  uvm::logging::info({}, "uvmd stopping", {{"signal", strsignal(sig)}});
  // No scrape may reach the engine once it stops.
  metrics.exposer.reset();
  caf::anon_send(node, uvm::node_stop{});
  // The clients hear the notice before their connections close.
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  node = nullptr;
  published = nullptr;
  counted = nullptr;
  eng.reset();
  uvm::tls::on_handshake(nullptr);
  uvm::logging::info({}, "uvmd stopped", {{"tls_refusals", refusals.load()}});
  return 0;
}
