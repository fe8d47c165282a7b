#include "hcs/sim/sim_faults.hpp"

#include <algorithm>

namespace uvm::hcs {

sim_faults::sim_faults(uint64_t seed) : rng_(seed) {}

void sim_faults::fail_next(call_kind kind, uint32_t count, std::string id) {
  if (count > 0) {
    rules_.push_back({kind, std::move(id), count});
  }
}

void sim_faults::fail_with_probability(call_kind kind, double p) {
  probability_[static_cast<std::size_t>(kind)] = std::clamp(p, 0.0, 1.0);
}

void sim_faults::crash_after_calls(const std::string& id, uint32_t n) {
  if (n == 0) {
    crash_countdown_.erase(id); // nothing further to count down
    return;
  }
  crash_countdown_[id] = n;
}

void sim_faults::forget(const std::string& id) {
  crash_countdown_.erase(id);
}

sim_faults::verdict sim_faults::on_call(call_kind kind, const std::string& id) {
  verdict out;
  auto rule = std::find_if(rules_.begin(), rules_.end(), [&](const fail_rule& r) {
    return r.kind == kind && (r.id.empty() || r.id == id);
  });
  if (rule != rules_.end()) {
    out.fail = true;
    if (--rule->remaining == 0) {
      rules_.erase(rule);
    }
  } else if (double p = probability_[static_cast<std::size_t>(kind)]; p > 0) {
    out.fail = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
  }
  if (auto countdown = crash_countdown_.find(id); countdown != crash_countdown_.end()) {
    if (--countdown->second == 0) {
      out.crash = true;
      crash_countdown_.erase(countdown);
    }
  }
  return out;
}

} // namespace uvm::hcs
