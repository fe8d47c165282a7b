#include "actors/core/log_rate_limit.hpp"

#include <algorithm>

namespace uvm::logging {

log_rate_limit::log_rate_limit(log_rate rate, clock::time_point now) : rate_(rate), last_(now) {
  rate_.burst = std::max<uint32_t>(rate_.burst, 1);
  tokens_ = rate_.burst;
}

log_rate_limit::verdict log_rate_limit::admit(clock::time_point now) {
  if (rate_.per_second == 0) {
    return verdict::log;
  }
  if (now > last_) {
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min<double>(rate_.burst, tokens_ + elapsed.count() * rate_.per_second);
    last_ = now;
  }
  if (tokens_ >= rate_.burst) {
    limiting_ = false;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return verdict::log;
  }
  ++dropped_;
  if (limiting_) {
    return verdict::drop;
  }
  limiting_ = true;
  return verdict::drop_first;
}

uint64_t log_rate_limit::take_dropped() {
  auto n = dropped_;
  dropped_ = 0;
  return n;
}

} // namespace uvm::logging
