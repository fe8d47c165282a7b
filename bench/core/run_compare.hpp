// uvm-bench compare A B: two fleet runs (their folders) side by side, per
// operation, with the ratio B/A of each metric, and the regressions that
// exceed the noise. The noise band of a metric is the larger of
//   - `threshold` (relative, default 10%) of A's value,
//   - twice the pooled standard deviation of the metric's per-interval
//     values in A and B (raw.jsonl), i.e. how much it moves within a run,
//   - an absolute floor: 0.05 ms for latencies, 1 op/s for throughput.
// A latency (p50, p99) regresses when B exceeds A by more than its band; a
// throughput when B falls short of A by more than its band; errors when
// B's share of unexpected errors exceeds A's by more than 1 percentage point.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::bench {

struct compared_metric {
  std::string op;
  std::string metric; // p50_ms, p99_ms, rate, error_share
  double a = 0;
  double b = 0;
  double band = 0;
  bool regression = false;
  bool improvement = false;
};

struct run_data {
  nlohmann::json summary;
  std::vector<nlohmann::json> lines;
};

// Reads DIR/summary.json and DIR/raw.jsonl; throws std::invalid_argument.
run_data load_run(const std::string& dir);

std::vector<compared_metric> compare_run_data(const run_data& a, const run_data& b,
                                              double threshold);

} // namespace uvm::bench
