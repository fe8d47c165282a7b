// Drives a uvmd node through the embedding API for the remote e2e tests
// (tests/e2e/remote_*.sh), where a shell cannot: calls pending while the
// node dies, and a process's stdout read slowly.
//
//   remote_probe failover ADDR CERT KEY CA UVMD_PID -- UVMD_ARGS...
//     20 calls pending on the node, then kill -9 of UVMD_PID: each call
//     must fail within 1 s with "node ADDR lost: ...". Then uvmd is started
//     again (UVMD_ARGS, same port) and the same engine's next call must
//     succeed. Prints one JSON line; exit 0 when all held.
//   remote_probe slow-reader ADDR CERT KEY CA BYTES DELAY_MS
//     a process on the node writes BYTES to stdout, read here slowly.
//   remote_probe busy ADDR CERT KEY CA CALLS LATENCY_MS
//     CALLS SCSI adds at once on one VM while the node's simulated HCS
//     holds each modify LATENCY_MS: prints how many succeeded, how many
//     the node refused with busy, and the first refusal's words.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "hcs/backend.hpp"

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

int usage() {
  std::cerr << "usage: remote_probe failover ADDR CERT KEY CA UVMD_PID -- UVMD_ARGS...\n"
               "       remote_probe slow-reader ADDR CERT KEY CA BYTES DELAY_MS\n"
               "       remote_probe busy ADDR CERT KEY CA CALLS LATENCY_MS\n";
  return 2;
}

bool split(const std::string& addr, std::string& host, uint16_t& port) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) {
    return false;
  }
  host = addr.substr(0, colon);
  port = static_cast<uint16_t>(std::stoi(addr.substr(colon + 1)));
  return true;
}

uvm::options_lcow lcow(const std::string& id, const uvm::host_info& host, const std::string& boot) {
  auto o = uvm::new_default_options_lcow(
      id, "remote_probe", host, [](const std::string& f) { return std::filesystem::exists(f); });
  o.boot_files_path = boot;
  return o;
}

// The engine connected to ADDR, or null with the reason on stderr.
std::unique_ptr<uvm::engine> connect_to(const std::string& addr, const uvm::tls_options& tls) {
  std::string host;
  uint16_t port = 0;
  if (!split(addr, host, port)) {
    std::cerr << "ADDR must be HOST:PORT, got " << addr << "\n";
    return nullptr;
  }
  auto eng = uvm::engine::connect(host, port, tls);
  if (!eng) {
    std::cerr << eng.err().text << "\n";
    return nullptr;
  }
  return std::move(*eng);
}

// A VM created and started on `eng`, or none with the reason on stderr.
std::optional<uvm::utility_vm> started(uvm::engine& eng, const std::string& id,
                                       const std::string& boot) {
  auto vm = eng.create_lcow(lcow(id, eng.config().host, boot));
  if (!vm) {
    std::cerr << "create " << id << ": " << vm.err().text << "\n";
    return std::nullopt;
  }
  if (auto e = vm->start()) {
    std::cerr << "start " << id << ": " << e.text << "\n";
    return std::nullopt;
  }
  return *vm;
}

int failover(const std::string& addr, const uvm::tls_options& tls, pid_t uvmd,
             std::vector<char*> uvmd_argv, const std::string& boot) {
  auto eng = connect_to(addr, tls);
  if (!eng) {
    return 1;
  }
  std::vector<uvm::utility_vm> vms;
  for (int i = 0; i < 2; ++i) {
    auto vm = started(*eng, "probe-" + std::to_string(i), boot);
    if (!vm) {
      return 1;
    }
    vms.push_back(*vm);
  }
  // 20 calls the node holds: waits on running VMs (no deadline).
  constexpr int calls = 20;
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> errors;
  std::vector<double> after_ms;
  clock_type::time_point killed_at;
  for (int i = 0; i < calls; ++i) {
    vms[i % 2].wait([&](const uvm::error& e) {
      std::lock_guard<std::mutex> lock{m};
      errors.push_back(e ? e.text : "ok");
      after_ms.push_back(
          std::chrono::duration<double, std::milli>(clock_type::now() - killed_at).count());
      cv.notify_all();
    });
  }
  // The same stand-ins carry a blocking call after them: once it is
  // answered, the node holds the waits.
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  if (!vms[0].stats() || !vms[1].stats()) {
    std::cerr << "stats before the kill failed\n";
    return 1;
  }
  {
    std::lock_guard<std::mutex> lock{m};
    if (!errors.empty()) {
      std::cerr << "a wait ended before the kill: " << errors.front() << "\n";
      return 1;
    }
    killed_at = clock_type::now();
  }
  // PROBE_FREEZE=1: the node stops answering without closing its
  // connection (SIGSTOP, as a partition): heartbeats must notice.
  bool freeze = std::getenv("PROBE_FREEZE") != nullptr;
  ::kill(uvmd, freeze ? SIGSTOP : SIGKILL);
  {
    std::unique_lock<std::mutex> lock{m};
    cv.wait_for(lock, std::chrono::seconds{10}, [&] { return errors.size() == calls; });
  }
  json out;
  double worst = 0;
  bool named = true;
  {
    std::lock_guard<std::mutex> lock{m};
    for (double t : after_ms) {
      worst = std::max(worst, t);
    }
    for (const auto& e : errors) {
      named = named && e.rfind("node " + addr + " lost: ", 0) == 0;
    }
    out["failed"] = errors.size();
    out["worst_ms"] = worst;
    out["first_error"] = errors.empty() ? "" : errors.front();
  }
  // A call after the loss fails at once, naming the node.
  auto t0 = clock_type::now();
  auto late = vms[0].stats();
  out["late_call_ms"] = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  out["late_error"] = late ? "" : late.err().text;
  if (freeze) {
    ::kill(uvmd, SIGKILL);
  }
  ::waitpid(uvmd, nullptr, 0);

  // The node again, on the same port; the same engine reconnects.
  pid_t again = 0;
  if (posix_spawn(&again, uvmd_argv[0], nullptr, nullptr, uvmd_argv.data(), environ) != 0) {
    std::cerr << "cannot start uvmd again\n";
    return 1;
  }
  out["restarted_pid"] = again;
  bool reconnected = false;
  for (int i = 0; i < 100 && !reconnected; ++i) {
    auto l = eng->list();
    reconnected = static_cast<bool>(l);
    if (!reconnected) {
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  out["reconnected"] = reconnected;
  if (reconnected) {
    auto vm = eng->create_lcow(lcow("probe-again", eng->config().host, boot));
    out["create_after_reconnect"] = vm ? "ok" : vm.err().text;
  }
  std::cout << out.dump() << std::endl;
  bool ok = out["failed"] == calls && worst < 1000 && named &&
            out["late_error"].get<std::string>().rfind("node " + addr + " lost: ", 0) == 0 &&
            reconnected && out["create_after_reconnect"] == "ok";
  ::kill(again, SIGTERM);
  int status = 0;
  ::waitpid(again, &status, 0);
  return ok ? 0 : 1;
}

// A process writes BYTES to stdout; this reader takes it in 64 KiB reads
// with DELAY_MS between them, and checks it got every byte in order (the
// process writes the sequence 0, 1, ..., 255, 0, ... as bytes).
int slow_reader(const std::string& addr, const uvm::tls_options& tls, uint64_t bytes, int delay_ms,
                const std::string& boot) {
  auto eng = connect_to(addr, tls);
  if (!eng) {
    return 1;
  }
  auto vm = started(*eng, "slow-reader", boot);
  if (!vm) {
    return 1;
  }
  uvm::process_parameters params;
  params.command_args = {
      "perl", "-e",
      "my $b = join('', map { chr } 0..255) x 256; my $n = " + std::to_string(bytes) +
          "; $| = 1; while ($n > 0) { my $k = $n < length($b) ? $n : length($b); print "
          "substr($b, 0, $k); $n -= $k; }"};
  params.create_stdout = true;
  auto p = vm->create_process(params.to_json());
  if (!p) {
    std::cerr << p.err().text << "\n";
    return 1;
  }
  std::vector<char> buf(65536);
  uint64_t got = 0;
  bool in_order = true;
  std::cout << "{\"started\":true}" << std::endl;
  for (;;) {
    auto n = p->std_out()->read(buf.data(), buf.size());
    if (!n) {
      std::cerr << n.err().text << "\n";
      return 1;
    }
    if (*n == 0) {
      break;
    }
    for (size_t i = 0; i < *n; ++i) {
      in_order = in_order && static_cast<unsigned char>(buf[i]) == ((got + i) & 0xFF);
    }
    got += *n;
    if (delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds{delay_ms});
    }
  }
  auto code = p->wait();
  json out{{"bytes", got}, {"in_order", in_order}, {"exit_code", code ? int(*code) : -1}};
  std::cout << out.dump() << std::endl;
  vm->close();
  return got == bytes && in_order && code && *code == 0 ? 0 : 1;
}

int busy(const std::string& addr, const uvm::tls_options& tls, int calls, int latency_ms,
         const std::string& boot) {
  auto eng = connect_to(addr, tls);
  if (!eng) {
    return 1;
  }
  auto vm = started(*eng, "busy", boot);
  if (!vm) {
    return 1;
  }
  uvm::sim_control slow;
  slow.what = uvm::sim_control::kind::latency;
  slow.call = static_cast<uint8_t>(uvm::hcs::call_kind::modify);
  slow.min_us = slow.max_us = int64_t{latency_ms} * 1000;
  if (auto r = eng->control_sim(slow); !r) {
    std::cerr << "sim latency: " << r.err().text << "\n";
    return 1;
  }
  std::mutex m;
  int ok = 0;
  std::vector<std::string> refused;
  std::vector<std::string> other;
  std::vector<std::thread> callers;
  for (int i = 0; i < calls; ++i) {
    callers.emplace_back([&, i] {
      auto r =
          vm->add_scsi("/d/busy-" + std::to_string(i) + ".vhdx",
                       "/run/mounts/busy-" + std::to_string(i), false, uvm::vm_access_type::noop);
      std::lock_guard<std::mutex> lock{m};
      if (r) {
        ++ok;
      } else {
        (r.err().code == uvm::errc::busy ? refused : other).push_back(r.err().text);
      }
    });
  }
  for (auto& t : callers) {
    t.join();
  }
  json out{{"ok", ok},
           {"busy", refused.size()},
           {"first_busy", refused.empty() ? "" : refused.front()},
           {"other", other}};
  std::cout << out.dump() << std::endl;
  vm->close();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    return usage();
  }
  std::string mode = argv[1];
  std::string addr = argv[2];
  uvm::tls_options tls{argv[3], argv[4], argv[5]};
  if (tls.certificate == "-") {
    tls = {};
  }
  const char* boot_env = std::getenv("PROBE_BOOT");
  std::string boot = boot_env ? boot_env : "/tmp";
  if (mode == "failover") {
    pid_t uvmd = static_cast<pid_t>(std::stol(argv[6]));
    if (std::string{argv[7]} != "--" || argc < 9) {
      return usage();
    }
    std::vector<char*> uvmd_argv(argv + 8, argv + argc);
    uvmd_argv.push_back(nullptr);
    return failover(addr, tls, uvmd, uvmd_argv, boot);
  }
  if (mode == "busy") {
    return busy(addr, tls, std::stoi(argv[6]), std::stoi(argv[7]), boot);
  }
  if (mode == "slow-reader") {
    return slow_reader(addr, tls, std::stoull(argv[6]), std::stoi(argv[7]), boot);
  }
  return usage();
}
