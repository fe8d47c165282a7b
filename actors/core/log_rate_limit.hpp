// A bound on how fast one guest may fill the host's log. The guest decides
// what it writes on its log channel; re-logging all of it would let one
// VM flood the host agent's log (disk, journal, CPU) for every other VM.
// A token bucket: `burst` entries at once, then `per_second` entries a
// second; what it refuses is counted, not lost without a trace.
#pragma once

#include <chrono>
#include <cstdint>

namespace uvm::logging {

struct log_rate {
  uint32_t per_second = 200; // 0: no bound
  uint32_t burst = 2000;     // at least 1
};

class log_rate_limit {
public:
  using clock = std::chrono::steady_clock;
  enum class verdict {
    log,
    drop,
    drop_first, // the first refusal since the bucket was last full
  };

  log_rate_limit(log_rate rate, clock::time_point now);

  // Whether one more entry may be logged at `now`; a refused one is
  // counted as dropped.
  verdict admit(clock::time_point now);
  // From the first refusal until the bucket is full again: a flood that
  // has not yet let up.
  bool limiting() const { return limiting_; }
  uint64_t dropped() const { return dropped_; }
  // The entries refused since the last call.
  uint64_t take_dropped();

  const log_rate& rate() const { return rate_; }

private:
  log_rate rate_;
  double tokens_;
  clock::time_point last_;
  bool limiting_ = false;
  uint64_t dropped_ = 0;
};

} // namespace uvm::logging
