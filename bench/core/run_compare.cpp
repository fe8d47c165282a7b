#include "bench/core/run_compare.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "bench/core/fleet_report.hpp"

namespace uvm::bench {

namespace {

double value(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

double variance(const std::vector<double>& v) {
  if (v.size() < 2) {
    return 0;
  }
  double mean = 0;
  for (double x : v) {
    mean += x;
  }
  mean /= static_cast<double>(v.size());
  double s = 0;
  for (double x : v) {
    s += (x - mean) * (x - mean);
  }
  return s / static_cast<double>(v.size() - 1);
}

// The op's metric in every interval where it ran (rates: count / interval).
std::vector<double> per_interval(const run_data& r, const std::string& op,
                                 const std::string& metric) {
  std::vector<double> out;
  for (const auto& l : r.lines) {
    if (!l.contains("ops") || !l["ops"].contains(op)) {
      continue;
    }
    const auto& o = l["ops"][op];
    if (metric == "rate") {
      auto s = value(l, "interval_s");
      if (s > 0) {
        out.push_back(value(o, "count") / s);
      }
    } else {
      out.push_back(value(o, metric.c_str()));
    }
  }
  return out;
}

double run_seconds(const nlohmann::json& s) {
  auto t = value(s, "run_seconds");
  return t > 0 ? t : 1;
}

} // namespace

run_data load_run(const std::string& dir) {
  run_data r;
  std::ifstream in{dir + "/summary.json"};
  if (!in) {
    throw std::invalid_argument("cannot read " + dir + "/summary.json");
  }
  std::stringstream s;
  s << in.rdbuf();
  r.summary = nlohmann::json::parse(s.str(), nullptr, false);
  if (r.summary.is_discarded() || !r.summary.is_object() || !r.summary.contains("ops") ||
      !r.summary["ops"].is_object()) {
    throw std::invalid_argument(dir + "/summary.json is not a fleet summary");
  }
  r.lines = read_raw_lines(dir + "/raw.jsonl");
  return r;
}

std::vector<compared_metric> compare_run_data(const run_data& a, const run_data& b,
                                              double threshold) {
  std::set<std::string> ops;
  for (const auto* r : {&a, &b}) {
    for (const auto& [op, v] : r->summary["ops"].items()) {
      ops.insert(op);
    }
  }
  std::vector<compared_metric> out;
  for (const auto& op : ops) {
    auto sa = a.summary["ops"].value(op, nlohmann::json::object());
    auto sb = b.summary["ops"].value(op, nlohmann::json::object());
    for (const char* metric : {"p50_ms", "p99_ms", "rate", "error_share"}) {
      compared_metric m;
      m.op = op;
      m.metric = metric;
      std::string name = metric;
      if (name == "rate") {
        m.a = value(sa, "count") / run_seconds(a.summary);
        m.b = value(sb, "count") / run_seconds(b.summary);
      } else if (name == "error_share") {
        m.a = value(sa, "count") > 0 ? value(sa, "errors") / value(sa, "count") : 0;
        m.b = value(sb, "count") > 0 ? value(sb, "errors") / value(sb, "count") : 0;
      } else {
        m.a = value(sa, metric);
        m.b = value(sb, metric);
      }
      if (name == "error_share") {
        m.band = 0.01;
        m.regression = m.b - m.a > m.band;
        m.improvement = m.a - m.b > m.band;
      } else {
        auto spread =
            2 *
            std::sqrt((variance(per_interval(a, op, name)) + variance(per_interval(b, op, name))) /
                      2);
        double floor = name == "rate" ? 1.0 : 0.05;
        m.band = std::max({threshold * m.a, spread, floor});
        bool higher_is_worse = name != "rate";
        double worse_by = higher_is_worse ? m.b - m.a : m.a - m.b;
        m.regression = worse_by > m.band;
        m.improvement = -worse_by > m.band;
      }
      out.push_back(m);
    }
  }
  return out;
}

} // namespace uvm::bench
