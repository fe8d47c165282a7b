// Which calls the simulated HCS fails or turns into a guest crash, decided
// when each call is received. Pure and seeded: the same calls in the same
// order get the same verdicts.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "hcs/backend.hpp"

namespace uvm::hcs {

class sim_faults {
public:
  explicit sim_faults(uint64_t seed);

  // The next `count` calls of `kind` (for system `id`, or any system when
  // `id` is empty) fail. Rules are used in the order they were added.
  void fail_next(call_kind kind, uint32_t count, std::string id);
  // Every call of `kind` fails with probability `p` (0 turns it off).
  void fail_with_probability(call_kind kind, double p);
  // The `n`-th further call for `id` (n >= 1) crashes the system.
  void crash_after_calls(const std::string& id, uint32_t n);
  // The system was closed: its crash countdown no longer applies.
  void forget(const std::string& id);

  struct verdict {
    bool fail = false;
    bool crash = false;
  };
  verdict on_call(call_kind kind, const std::string& id);

private:
  struct fail_rule {
    call_kind kind;
    std::string id;
    uint32_t remaining;
  };

  std::vector<fail_rule> rules_;
  std::array<double, call_kind_count> probability_{};
  std::map<std::string, uint32_t> crash_countdown_;
  std::mt19937_64 rng_;
};

} // namespace uvm::hcs
