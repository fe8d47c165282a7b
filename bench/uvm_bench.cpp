// uvm-bench: load and benchmark harness for the engine on the simulated HCS.
//   uvm-bench lifecycle --vms N --latency-us L [--json]
//     N LCOW VMs created, started and closed concurrently through the async
//     API, every backend call taking L µs.
//   uvm-bench hotplug --latency-us L --callers G --seconds S [--json]
//     one VM; G callers, each adding then removing its own SCSI disk in a
//     loop, every backend call taking L µs.
//   uvm-bench roundtrip --calls N [--json]
//     one VM call (ContainerCounter) N times, blocking vs asynchronous, in
//     the same run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "actors/engine.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Boot files CreateLCOW checks for; the simulator boots nothing.
struct boot_files {
  fs::path dir = fs::temp_directory_path() / ("uvm-bench-" + std::to_string(::getpid()));
  boot_files() {
    fs::create_directories(dir);
    std::ofstream(dir / "kernel") << "k\n";
    std::ofstream(dir / "initrd.img") << "i\n";
  }
  ~boot_files() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Waits until `n` completions were counted.
class latch {
public:
  explicit latch(size_t n) : left_(n) {}
  void count_down() {
    std::lock_guard<std::mutex> lock{m_};
    if (--left_ == 0) {
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock<std::mutex> lock{m_};
    cv_.wait(lock, [&] { return left_ == 0; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  size_t left_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

int lifecycle(int vms, int latency_us, bool json) {
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  uvm::engine eng{cfg};
  auto lat = std::chrono::microseconds{latency_us};
  for (auto k : {uvm::hcs::call_kind::create, uvm::hcs::call_kind::start,
                 uvm::hcs::call_kind::terminate, uvm::hcs::call_kind::properties}) {
    eng.sim().set_latency(k, lat, lat);
  }
  std::mutex m;
  std::vector<double> create_ms;
  std::vector<uvm::utility_vm> handles;
  std::atomic<int> errors{0};
  auto t0 = clock_type::now();
  {
    latch created(static_cast<size_t>(vms));
    for (int i = 0; i < vms; ++i) {
      auto o = uvm::new_default_options_lcow("", "uvm-bench", cfg.host,
                                             [](const std::string& p) { return fs::exists(p); });
      o.boot_files_path = boot.dir.string();
      auto start = clock_type::now();
      eng.create_lcow(std::move(o), {}, [&, start](uvm::result<uvm::utility_vm> vm) {
        std::lock_guard<std::mutex> lock{m};
        if (vm) {
          handles.push_back(*vm);
          create_ms.push_back(seconds_since(start) * 1000);
        } else {
          ++errors;
        }
        created.count_down();
      });
    }
    created.wait();
  }
  auto created_s = seconds_since(t0);
  auto t1 = clock_type::now();
  {
    latch started(handles.size());
    for (auto& vm : handles) {
      vm.start([&](const uvm::error& e) {
        errors += e ? 1 : 0;
        started.count_down();
      });
    }
    started.wait();
  }
  auto started_s = seconds_since(t1);
  auto t2 = clock_type::now();
  {
    latch closed(handles.size());
    for (auto& vm : handles) {
      vm.close([&](const uvm::error& e) {
        errors += e ? 1 : 0;
        closed.count_down();
      });
    }
    closed.wait();
  }
  auto closed_s = seconds_since(t2);
  nlohmann::json out = {{"bench", "lifecycle"},
                        {"vms", vms},
                        {"latency_us", latency_us},
                        {"errors", errors.load()},
                        {"create_per_s", vms / created_s},
                        {"start_per_s", vms / started_s},
                        {"close_per_s", vms / closed_s},
                        {"create_p50_ms", percentile(create_ms, 0.5)},
                        {"create_p99_ms", percentile(create_ms, 0.99)},
                        {"total_s", seconds_since(t0)}};
  if (json) {
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << out.dump(2) << std::endl;
  }
  return errors == 0 ? 0 : 1;
}

struct hotplug_stats {
  std::mutex m;
  std::vector<double> add_us;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
};

// One caller: add its disk, remove it, again, until the deadline.
caf::behavior hotplug_caller(caf::event_based_actor* self, uvm::utility_vm_actor vm,
                             std::string disk, clock_type::time_point deadline,
                             std::shared_ptr<hotplug_stats> stats, latch* done) {
  auto record = [stats](double add_us, bool ok, const caf::error* e) {
    std::lock_guard<std::mutex> lock{stats->m};
    if (add_us >= 0) {
      stats->add_us.push_back(add_us);
    }
    if (ok) {
      ++stats->ops;
    } else {
      ++stats->errors;
      if (stats->first_error.empty() && e != nullptr) {
        stats->first_error = uvm::from_caf_error(*e).text;
      }
    }
  };
  auto step = std::make_shared<std::function<void()>>();
  *step = [=] {
    if (clock_type::now() >= deadline) {
      done->count_down();
      self->quit();
      return;
    }
    uvm::scsi_add_request req;
    req.host_path = disk;
    auto t0 = clock_type::now();
    self->request(vm, caf::infinite, uvm::add_scsi_atom_v, req)
        .then(
            [=](uvm::scsi_mount&) {
              record(seconds_since(t0) * 1e6, true, nullptr);
              self->request(vm, caf::infinite, uvm::remove_scsi_atom_v, disk, std::string{})
                  .then(
                      [=](caf::ok_atom) {
                        record(-1, true, nullptr);
                        (*step)();
                      },
                      [=](caf::error& e) {
                        record(-1, false, &e);
                        (*step)();
                      });
            },
            [=](caf::error& e) {
              record(-1, false, &e);
              (*step)();
            });
  };
  (*step)();
  return {[](caf::ok_atom) {}};
}

int hotplug(int latency_us, int callers, double seconds, bool json, const std::string& policy,
            int moderate_sleep_us, int threads, const std::string& guest) {
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.scheduler_policy = policy;
  cfg.moderate_sleep = std::chrono::microseconds{moderate_sleep_us};
  cfg.scheduler_threads = threads;
  cfg.sim_inline_completions = true;
  cfg.guest = guest;
  uvm::engine eng{cfg};
  auto o = uvm::new_default_options_lcow("hotplug", "uvm-bench", cfg.host,
                                         [](const std::string& p) { return fs::exists(p); });
  o.boot_files_path = boot.dir.string();
  // Up to 4 controllers so that 256 callers fit.
  o.scsi_controller_count = static_cast<uint32_t>(std::min(4, (callers + 63) / 64));
  auto vm = eng.create_lcow(o);
  if (!vm || vm->start()) {
    std::cerr << "hotplug: could not create and start the VM\n";
    return 1;
  }
  auto lat = std::chrono::microseconds{latency_us};
  eng.sim().set_latency(uvm::hcs::call_kind::modify, lat, lat);
  auto stats = std::make_shared<hotplug_stats>();
  latch done(static_cast<size_t>(callers));
  auto t0 = clock_type::now();
  auto deadline =
      t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < callers; ++i) {
    eng.system().spawn(hotplug_caller, vm->actor(), "/bench/disk-" + std::to_string(i) + ".vhdx",
                       deadline, stats, &done);
  }
  done.wait();
  auto elapsed = seconds_since(t0);
  (void)vm->close();
  std::lock_guard<std::mutex> lock{stats->m};
  nlohmann::json out = {{"bench", "hotplug"},
                        {"latency_us", latency_us},
                        {"callers", callers},
                        {"scheduler_threads", threads},
                        {"guest", guest},
                        {"sim_inline_completions", cfg.sim_inline_completions},
                        {"seconds", elapsed},
                        {"ops", stats->ops},
                        {"errors", stats->errors},
                        {"ops_per_s", static_cast<double>(stats->ops) / elapsed},
                        {"add_p50_us", percentile(stats->add_us, 0.5)},
                        {"add_p99_us", percentile(stats->add_us, 0.99)}};
  if (!stats->first_error.empty()) {
    out["first_error"] = stats->first_error;
  }
  std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
  return stats->errors == 0 ? 0 : 1;
}

int roundtrip(int calls, bool json) {
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  uvm::engine eng{cfg};
  auto o = uvm::new_default_options_lcow("bench", "uvm-bench", cfg.host,
                                         [](const std::string& p) { return fs::exists(p); });
  o.boot_files_path = boot.dir.string();
  auto vm = eng.create_lcow(o);
  if (!vm) {
    std::cerr << vm.err().text << "\n";
    return 1;
  }
  auto t0 = clock_type::now();
  for (int i = 0; i < calls; ++i) {
    (void)vm->container_counter();
  }
  auto blocking_us = seconds_since(t0) * 1e6 / calls;

  // Asynchronous: one outstanding call at a time, each issued from the
  // previous one's callback, so both forms measure a round trip.
  latch done(1);
  std::atomic<int> left{calls};
  auto actor = vm->actor();
  std::function<void(caf::event_based_actor*)> step;
  step = [&](caf::event_based_actor* self) {
    self->request(actor, caf::infinite, uvm::counter_atom_v, uvm::counter_kind::uvm_mount)
        .then(
            [&, self](uint64_t) {
              if (--left == 0) {
                done.count_down();
              } else {
                step(self);
              }
            },
            [&](caf::error&) { done.count_down(); });
  };
  auto t1 = clock_type::now();
  eng.dispatch(step);
  done.wait();
  auto async_us = seconds_since(t1) * 1e6 / calls;
  (void)vm->close();
  nlohmann::json out = {{"bench", "roundtrip"},
                        {"calls", calls},
                        {"blocking_us", blocking_us},
                        {"async_us", async_us},
                        {"blocking_over_async", blocking_us / async_us}};
  std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvm-bench: load and benchmark harness (simulated HCS)"};
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json, "one JSON object on one line");

  int vms = 1000;
  int latency_us = 1000;
  auto* lc = app.add_subcommand("lifecycle", "create, start and close N VMs concurrently");
  lc->add_option("--vms", vms, "number of VMs")->check(CLI::Range(1, 1000000));
  lc->add_option("--latency-us", latency_us, "latency of every backend call")
      ->check(CLI::Range(0, 10000000));
  lc->add_flag("--json", json, "one JSON object on one line");

  int calls = 20000;
  auto* rt = app.add_subcommand("roundtrip", "blocking vs asynchronous VM call round trip");
  rt->add_option("--calls", calls, "number of calls")->check(CLI::Range(1, 100000000));
  rt->add_flag("--json", json, "one JSON object on one line");

  int callers = 64;
  double seconds = 5;
  int hp_latency_us = 1000;
  auto* hp = app.add_subcommand("hotplug", "SCSI add/remove loops of G callers on one VM");
  hp->add_option("--latency-us", hp_latency_us, "latency of every backend call")
      ->check(CLI::Range(0, 10000000));
  hp->add_option("--callers", callers, "concurrent callers (each its own disk)")
      ->check(CLI::Range(1, 256));
  hp->add_option("--seconds", seconds, "how long to run")->check(CLI::Range(0.1, 3600.0));
  hp->add_flag("--json", json, "one JSON object on one line");
  std::string policy = "stealing";
  int moderate_sleep_us = 50;
  int threads = 2;
  std::string guest = "in-process";
  hp->add_option("--scheduler", policy, "CAF scheduler policy")
      ->check(CLI::IsMember({"stealing", "sharing"}));
  hp->add_option("--guest", guest,
                 "the VM's guest agent: in-process (the bridge protocol over a socketpair), "
                 "stub (no protocol), exec:CMD, unix:PATH");
  hp->add_option("--scheduler-threads", threads, "CAF scheduler threads")->check(CLI::Range(1, 64));
  hp->add_option("--moderate-sleep-us", moderate_sleep_us,
                 "work stealing: idle worker sleep between polls")
      ->check(CLI::Range(0, 100000));

  CLI11_PARSE(app, argc, argv);
  if (*lc) {
    return lifecycle(vms, latency_us, json);
  }
  if (*hp) {
    return hotplug(hp_latency_us, callers, seconds, json, policy, moderate_sleep_us, threads,
                   guest);
  }
  return roundtrip(calls, json);
}
