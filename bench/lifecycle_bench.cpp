// uvm-bench lifecycle: VMs created, started and closed concurrently.
#include <atomic>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bench/core/process_stats.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

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
                        {"allocator", allocator_name()},
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

} // namespace uvm::bench
