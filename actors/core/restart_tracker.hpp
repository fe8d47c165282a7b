// The supervisor's restart decision for one VM: restart with exponential
// back-off while fewer than max_restarts restarts fell within the window,
// give up otherwise. Plain C++ so that the policy is tested on its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

#include "messages/vm_types.hpp"

namespace uvm {

struct restart_decision {
  bool restart = false;
  uint32_t attempt = 0; // 1 for the first restart in the window
  std::chrono::milliseconds delay{0};
};

class restart_tracker {
public:
  using clock = std::chrono::steady_clock;

  explicit restart_tracker(restart_policy policy) : policy_(policy) {}

  bool restarts_enabled() const { return policy_.kind != restart_kind::never; }

  // Called for every unexpected exit (including a failed re-creation).
  restart_decision on_failure(clock::time_point now);

private:
  restart_policy policy_;
  std::deque<clock::time_point> restarts_;
};

} // namespace uvm
