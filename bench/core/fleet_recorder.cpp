#include "bench/core/fleet_recorder.hpp"

namespace uvm::bench {

namespace {

double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

} // namespace

bool is_injected_fault(const std::string& error_text) {
  return error_text.find("injected fault") != std::string::npos ||
         error_text.find("injected guest fault") != std::string::npos;
}

void op_tally::merge(const op_tally& other) {
  latency.merge(other.latency);
  ok += other.ok;
  injected += other.injected;
  errors += other.errors;
  if (first_error.empty()) {
    first_error = other.first_error;
  }
}

nlohmann::json op_tally::to_json(bool histogram) const {
  nlohmann::json j = {{"count", count()},
                      {"ok", ok},
                      {"injected", injected},
                      {"errors", errors},
                      {"p50_ms", ms(latency.percentile(50))},
                      {"p90_ms", ms(latency.percentile(90))},
                      {"p99_ms", ms(latency.percentile(99))},
                      {"p999_ms", ms(latency.percentile(99.9))},
                      {"max_ms", ms(latency.max())},
                      {"mean_ms", latency.mean() / 1e6}};
  if (!first_error.empty()) {
    j["first_error"] = first_error;
  }
  if (histogram) {
    j["histogram"] = latency.to_json();
  }
  return j;
}

fleet_recorder::fleet_recorder(size_t nodes) : interval_(nodes), step_(nodes), total_(nodes) {}

void fleet_recorder::issued() {
  std::lock_guard<std::mutex> lock{m_};
  ++issued_;
  ++interval_issued_;
}

void fleet_recorder::finished(size_t node, fleet_op op, uint64_t latency_ns, outcome o,
                              const std::string& error_text) {
  std::lock_guard<std::mutex> lock{m_};
  ++completed_;
  for (auto* tallies : {&interval_, &step_, &total_}) {
    auto& t = (*tallies)[node][static_cast<size_t>(op)];
    t.latency.record(latency_ns);
    switch (o) {
    case outcome::ok:
      ++t.ok;
      break;
    case outcome::injected:
      ++t.injected;
      break;
    case outcome::error:
      ++t.errors;
      if (t.first_error.empty()) {
        t.first_error = error_text;
      }
      break;
    }
  }
}

fleet_recorder::interval fleet_recorder::take_interval() {
  std::lock_guard<std::mutex> lock{m_};
  interval out;
  out.by_op = merge_nodes(interval_);
  out.issued = interval_issued_;
  out.in_flight = issued_ - completed_;
  for (auto& t : interval_) {
    t = op_tallies{};
  }
  interval_issued_ = 0;
  return out;
}

uint64_t fleet_recorder::in_flight() const {
  std::lock_guard<std::mutex> lock{m_};
  return issued_ - completed_;
}

std::vector<op_tallies> fleet_recorder::totals() const {
  std::lock_guard<std::mutex> lock{m_};
  return total_;
}

std::vector<op_tallies> fleet_recorder::step_totals() const {
  std::lock_guard<std::mutex> lock{m_};
  return step_;
}

void fleet_recorder::reset_step() {
  std::lock_guard<std::mutex> lock{m_};
  for (auto& t : step_) {
    t = op_tallies{};
  }
}

op_tallies merge_nodes(const std::vector<op_tallies>& per_node) {
  op_tallies out;
  for (const auto& node : per_node) {
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].merge(node[i]);
    }
  }
  return out;
}

op_tally merge_ops(const op_tallies& t) {
  op_tally out;
  for (const auto& op : t) {
    out.merge(op);
  }
  return out;
}

nlohmann::json ops_json(const op_tallies& t, bool histogram) {
  auto out = nlohmann::json::object();
  for (int i = 0; i < fleet_op_count; ++i) {
    if (t[static_cast<size_t>(i)].count() > 0) {
      out[fleet_op_name(static_cast<fleet_op>(i))] = t[static_cast<size_t>(i)].to_json(histogram);
    }
  }
  return out;
}

} // namespace uvm::bench
