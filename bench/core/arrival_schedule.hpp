// When requests of an open-loop load are due: at a constant rate or as a
// Poisson process (exponential gaps), as offsets from the start of the run.
// The generator issues each request at its offset whatever the answers to
// the earlier ones, and latencies count from that offset, so a stalled
// target cannot hide the requests it made wait (no coordinated omission).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace uvm::bench {

enum class arrival_kind { constant, poisson };

// "constant" or "poisson"; throws std::invalid_argument otherwise.
arrival_kind parse_arrival_kind(const std::string& name);
const char* arrival_kind_name(arrival_kind k);

class arrival_schedule {
public:
  // `rate_per_s` > 0; the first arrival is at `start`.
  arrival_schedule(arrival_kind kind, double rate_per_s, uint64_t seed,
                   std::chrono::nanoseconds start = std::chrono::nanoseconds{0});
  // The offset of the next arrival; increasing.
  std::chrono::nanoseconds next();

private:
  arrival_kind kind_;
  double gap_s_;
  double at_s_;
  bool first_ = true;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> gaps_;
};

} // namespace uvm::bench
