#include "bench/core/arrival_schedule.hpp"

#include <stdexcept>

namespace uvm::bench {

arrival_kind parse_arrival_kind(const std::string& name) {
  if (name == "constant") {
    return arrival_kind::constant;
  }
  if (name == "poisson") {
    return arrival_kind::poisson;
  }
  throw std::invalid_argument("arrival must be \"constant\" or \"poisson\", not \"" + name + "\"");
}

const char* arrival_kind_name(arrival_kind k) {
  return k == arrival_kind::constant ? "constant" : "poisson";
}

arrival_schedule::arrival_schedule(arrival_kind kind, double rate_per_s, uint64_t seed,
                                   std::chrono::nanoseconds start)
    : kind_(kind), gap_s_(1.0 / rate_per_s), at_s_(std::chrono::duration<double>(start).count()),
      rng_(seed), gaps_(rate_per_s) {
  if (!(rate_per_s > 0)) {
    throw std::invalid_argument("the rate must be above 0");
  }
}

std::chrono::nanoseconds arrival_schedule::next() {
  if (first_) {
    first_ = false;
  } else {
    at_s_ += kind_ == arrival_kind::constant ? gap_s_ : gaps_(rng_);
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(at_s_));
}

} // namespace uvm::bench
