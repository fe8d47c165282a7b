// uvm-bench compare A B: two fleet report folders side by side
// (bench/core/run_compare.hpp says what counts as a regression).
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench/benches.hpp"
#include "bench/core/run_compare.hpp"

namespace uvm::bench {

int compare_runs(const std::string& a, const std::string& b, double threshold, bool json) {
  std::vector<compared_metric> rows;
  try {
    rows = compare_run_data(load_run(a), load_run(b), threshold);
  } catch (const std::exception& e) {
    std::cerr << "compare: " << e.what() << "\n";
    return 2;
  }
  size_t flagged = 0;
  nlohmann::json out = {{"a", a}, {"b", b}, {"threshold", threshold}};
  out["metrics"] = nlohmann::json::array();
  if (!json) {
    std::printf("A: %s\nB: %s\n%-12s %-12s %12s %12s %8s %10s  %s\n", a.c_str(), b.c_str(), "op",
                "metric", "A", "B", "B/A", "noise", "verdict");
  }
  for (const auto& m : rows) {
    flagged += m.regression ? 1 : 0;
    double ratio = m.a != 0 ? m.b / m.a : 0;
    const char* verdict = m.regression ? "REGRESSION" : m.improvement ? "better" : "";
    if (json) {
      out["metrics"].push_back({{"op", m.op},
                                {"metric", m.metric},
                                {"a", m.a},
                                {"b", m.b},
                                {"ratio", ratio},
                                {"noise", m.band},
                                {"regression", m.regression},
                                {"improvement", m.improvement}});
    } else {
      std::printf("%-12s %-12s %12.4f %12.4f %8.3f %10.4f  %s\n", m.op.c_str(), m.metric.c_str(),
                  m.a, m.b, ratio, m.band, verdict);
    }
  }
  if (json) {
    out["regressions"] = flagged;
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("%zu regression(s) beyond noise\n", flagged);
  }
  return flagged == 0 ? 0 : 1;
}

} // namespace uvm::bench
