#include "actors/core/restart_tracker.hpp"

#include <algorithm>

namespace uvm {

restart_decision restart_tracker::on_failure(clock::time_point now) {
  if (policy_.kind == restart_kind::never) {
    return {};
  }
  auto window = std::chrono::milliseconds{policy_.window_ms};
  while (!restarts_.empty() && now - restarts_.front() > window) {
    restarts_.pop_front();
  }
  if (restarts_.size() >= policy_.max_restarts) {
    return {};
  }
  // Back-off doubles with each restart still inside the window.
  uint64_t delay = policy_.backoff_initial_ms;
  for (size_t i = 0; i < restarts_.size() && delay < policy_.backoff_max_ms; ++i) {
    delay *= 2;
  }
  delay = std::min<uint64_t>(delay, policy_.backoff_max_ms);
  restarts_.push_back(now);
  return {true, static_cast<uint32_t>(restarts_.size()), std::chrono::milliseconds{delay}};
}

} // namespace uvm
