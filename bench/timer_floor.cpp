// What the simulator's delay alone allows: `callers` loops, each waiting
// `latency` on the executor the simulated HCS completes its calls on, then
// the next. No engine, no actor: the most a bench whose calls each take
// `latency` can reach on this machine, so hotplug reports its rate as a
// share of it.
#include <atomic>
#include <memory>
#include <thread>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "hcs/executor.hpp"

namespace uvm::bench {

timer_floor measure_timer_floor(std::chrono::microseconds latency, int callers, double seconds) {
  auto ex = hcs::make_thread_executor(1);
  struct shared {
    std::atomic<uint64_t> rounds{0};
    std::atomic<uint64_t> late_ns{0};
    std::atomic<bool> stop{false};
  };
  auto s = std::make_shared<shared>();
  latch done(static_cast<size_t>(callers));
  // One caller's loop: arm, count how late it fired, arm again.
  struct loop {
    static void arm(hcs::executor& ex, std::shared_ptr<shared> s, std::chrono::microseconds latency,
                    latch* done) {
      auto due = clock_type::now() + latency;
      ex.post_after(latency, [&ex, s, latency, done, due] {
        s->late_ns += static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - due).count());
        ++s->rounds;
        if (s->stop) {
          done->count_down();
          return;
        }
        arm(ex, s, latency, done);
      });
    }
  };
  auto t0 = clock_type::now();
  for (int i = 0; i < callers; ++i) {
    loop::arm(*ex, s, latency, &done);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  s->stop = true;
  done.wait();
  auto elapsed = seconds_since(t0);
  timer_floor out;
  out.ops_per_s = static_cast<double>(s->rounds) / elapsed;
  out.mean_late_us = s->rounds == 0 ? 0 : static_cast<double>(s->late_ns) / 1e3 / s->rounds;
  return out;
}

} // namespace uvm::bench
