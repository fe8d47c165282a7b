// uvm-bench: load and benchmark harness for the engine on the simulated HCS.
//   uvm-bench lifecycle --vms N --latency-us L [--json]
//     N LCOW VMs created, started and closed concurrently through the async
//     API, every backend call taking L µs.
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

  CLI11_PARSE(app, argc, argv);
  if (*lc) {
    return lifecycle(vms, latency_us, json);
  }
  return roundtrip(calls, json);
}
