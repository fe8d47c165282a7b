// uvm-bench roundtrip: one VM call, blocking vs asynchronous.
#include <atomic>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

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

} // namespace uvm::bench
