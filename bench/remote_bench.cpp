// uvm-bench remote: pipelined calls from one client (engine::connect) to a
// uvmd it starts on loopback, plaintext and with mutual TLS: VM stats, and
// SCSI add + remove (each counts as one op), `window` calls in flight.
// Each mode first measures its anchor, CAF's own pipelined int requests
// between two processes (remote_anchor.cpp), and reports each window-64
// rate as a share of it. The node's simulator completes zero-latency calls
// inline, as the hotplug bench's engine does: the figures are the remote
// layer's, not the simulator's timer thread.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bench/child_process.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

namespace {

// A uvmd child process; its first stdout line names its address.
struct node_process {
  pid_t pid = 0;
  std::string addr;

  static std::unique_ptr<node_process> start(const std::vector<std::string>& args) {
    piped_child child;
    try {
      child = spawn_with_piped_stdout(args, false);
    } catch (const std::runtime_error&) {
      return nullptr;
    }
    auto p = std::make_unique<node_process>();
    p->pid = child.pid;
    FILE* f = ::fdopen(child.stdout_fd, "r");
    char line[256] = {};
    if (std::fgets(line, sizeof line, f) != nullptr) {
      std::string l{line};
      if (l.rfind("listening ", 0) == 0) {
        p->addr = l.substr(10, l.find_last_not_of("\r\n") - 9);
      }
    }
    std::fclose(f);
    return p;
  }
  ~node_process() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

struct run_result {
  double ops_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  size_t errors = 0;
};

// `ops` calls with `window` in flight; `scsi` pairs an add with a remove.
run_result pipelined(utility_vm& vm, bool scsi, int window, int ops) {
  std::mutex m;
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(ops));
  size_t issued = 0;
  size_t errors = 0;
  latch done{static_cast<size_t>(ops)};
  std::function<void(int)> next;
  next = [&](int slot) {
    {
      std::lock_guard<std::mutex> lock{m};
      if (issued >= static_cast<size_t>(ops)) {
        return;
      }
      issued += scsi ? 2 : 1;
    }
    auto t0 = clock_type::now();
    auto finish = [&, t0, slot](bool ok, int count) {
      {
        std::lock_guard<std::mutex> lock{m};
        auto us = std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
        for (int i = 0; i < count; ++i) {
          lat.push_back(us / count);
        }
        errors += ok ? 0 : static_cast<size_t>(count);
      }
      next(slot);
      for (int i = 0; i < count; ++i) {
        done.count_down();
      }
    };
    if (!scsi) {
      vm.request_async<vm_stats>([finish](result<vm_stats> r) { finish(static_cast<bool>(r), 1); },
                                 stats_atom_v, std::string{});
      return;
    }
    scsi_add_request req;
    req.host_path = "/bench/remote-disk-" + std::to_string(slot) + ".vhdx";
    vm.add_scsi(req, [&vm, finish, path = req.host_path](result<scsi_mount> r) {
      bool ok = static_cast<bool>(r);
      vm.remove_scsi(path, [finish, ok](const error& e) { finish(ok && !e, 2); });
    });
  };
  auto t0 = clock_type::now();
  for (int s = 0; s < window; ++s) {
    next(s);
  }
  done.wait();
  auto secs = seconds_since(t0);
  run_result r;
  r.ops_per_s = static_cast<double>(lat.size()) / secs;
  r.p50_us = percentile(lat, 0.5);
  r.p99_us = percentile(lat, 0.99);
  r.errors = errors;
  return r;
}

} // namespace

int remote(const std::string& self_exe, const std::string& uvmd, const tls_options& tls, int calls,
           bool as_json) {
  boot_files boot;
  nlohmann::ordered_json out;
  out["bench"] = "remote";
  out["calls"] = calls;
  out["node_sim_completions"] = "inline";
  std::vector<std::pair<std::string, bool>> modes{{"plaintext", false}};
  if (!tls.empty()) {
    modes.emplace_back("tls", true);
  }
  for (const auto& [mode, use_tls] : modes) {
    std::vector<std::string> tls_args;
    if (use_tls) {
      tls_args = {"--cert", tls.certificate, "--key", tls.key, "--ca", tls.ca_file};
    }
    std::vector<std::string> echo_args{self_exe, "remote-echo"};
    echo_args.insert(echo_args.end(), tls_args.begin(), tls_args.end());
    auto echo = node_process::start(echo_args);
    if (!echo || echo->addr.empty()) {
      std::cerr << "uvm-bench remote: cannot start the CAF echo node\n";
      return 1;
    }
    auto echo_port = static_cast<uint16_t>(std::stoi(echo->addr.substr(echo->addr.rfind(':') + 1)));
    double anchor = caf_echo_rate("127.0.0.1", echo_port, use_tls ? tls : tls_options{}, 64, calls);
    echo.reset();
    if (anchor <= 0) {
      std::cerr << "uvm-bench remote: the CAF echo node did not answer\n";
      return 1;
    }
    out[mode]["caf_echo"]["window_64"] = {{"ops_per_s", std::lround(anchor)}};

    std::vector<std::string> args{uvmd,   "--listen",          "127.0.0.1:0", "--log-level",
                                  "warn", "--sim-completions", "inline"};
    if (use_tls) {
      args.insert(args.end(), tls_args.begin(), tls_args.end());
    } else {
      args.push_back("--insecure-plaintext");
    }
    auto node = node_process::start(args);
    if (!node || node->addr.empty()) {
      std::cerr << "uvm-bench remote: cannot start " << uvmd << "\n";
      return 1;
    }
    auto colon = node->addr.rfind(':');
    auto eng = engine::connect(node->addr.substr(0, colon),
                               static_cast<uint16_t>(std::stoi(node->addr.substr(colon + 1))),
                               use_tls ? tls : tls_options{});
    if (!eng) {
      std::cerr << "uvm-bench remote: " << eng.err().text << "\n";
      return 1;
    }
    auto o = new_default_options_lcow("remote-bench", "uvm-bench", (*eng)->config().host,
                                      [](const std::string& f) { return fs::exists(f); });
    o.boot_files_path = boot.dir.string();
    auto vm = (*eng)->create_lcow(std::move(o));
    if (!vm || vm->start()) {
      std::cerr << "uvm-bench remote: cannot create and start a VM\n";
      return 1;
    }
    for (const char* op : {"stats", "scsi"}) {
      for (int window : {1, 64}) {
        int n = window == 1 ? std::max(1, calls / 10) : calls;
        auto r = pipelined(*vm, std::string{op} == "scsi", window, n);
        auto& row = out[mode][op]["window_" + std::to_string(window)];
        row = {{"ops_per_s", std::lround(r.ops_per_s)},
               {"p50_us", std::lround(r.p50_us)},
               {"p99_us", std::lround(r.p99_us)},
               {"errors", r.errors}};
        if (window == 64) {
          row["of_caf_echo"] = std::round(r.ops_per_s / anchor * 100) / 100;
        }
      }
    }
    vm->close();
  }
  std::cout << (as_json ? out.dump() : out.dump(2)) << std::endl;
  return 0;
}

} // namespace uvm::bench
