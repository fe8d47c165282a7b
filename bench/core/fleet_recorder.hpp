// What a fleet run records: per target node and operation, a latency
// histogram (every completion, failed or not, from its intended start) and
// the counts of successes, injected failures (the faults the profile asked
// for, recognised by their text) and other errors, for the current interval
// and the whole run. Completions arrive on the engine's threads: one lock.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/core/fleet_profile.hpp"
#include "bench/core/latency_histogram.hpp"

namespace uvm::bench {

enum class outcome { ok, injected, error };

// An error text from a fault the run injected (HCS or guest).
bool is_injected_fault(const std::string& error_text);

struct op_tally {
  latency_histogram latency;
  uint64_t ok = 0;
  uint64_t injected = 0;
  uint64_t errors = 0;
  std::string first_error;

  uint64_t count() const { return ok + injected + errors; }
  void merge(const op_tally& other);
  // Counts, p50/p90/p99/p99.9/max/mean in ms, and with `histogram` the
  // serialized histogram.
  nlohmann::json to_json(bool histogram) const;
};

using op_tallies = std::array<op_tally, fleet_op_count>;

class fleet_recorder {
public:
  explicit fleet_recorder(size_t nodes);

  void issued();
  void finished(size_t node, fleet_op op, uint64_t latency_ns, outcome o,
                const std::string& error_text = {});

  struct interval {
    op_tallies by_op; // merged over nodes
    uint64_t issued = 0;
    uint64_t in_flight = 0;
  };
  // The interval since the previous call; starts the next one.
  interval take_interval();
  uint64_t in_flight() const;
  // The whole run, per node.
  std::vector<op_tallies> totals() const;
  // The current step of a ramp (since reset_step), per node.
  std::vector<op_tallies> step_totals() const;
  void reset_step();

private:
  mutable std::mutex m_;
  std::vector<op_tallies> interval_;
  std::vector<op_tallies> step_;
  std::vector<op_tallies> total_;
  uint64_t issued_ = 0;
  uint64_t completed_ = 0;
  uint64_t interval_issued_ = 0;
};

// Merges per-node tallies into one per operation.
op_tallies merge_nodes(const std::vector<op_tallies>& per_node);
// Every operation of `t` merged into one.
op_tally merge_ops(const op_tallies& t);
// {"op name": tally json, ...} for the operations that ran.
nlohmann::json ops_json(const op_tallies& t, bool histogram);

} // namespace uvm::bench
