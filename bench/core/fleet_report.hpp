// The report of a fleet run: from DIR/summary.json and DIR/raw.jsonl,
// gnuplot data and scripts under DIR/plots/, PNG plots (throughput, latency
// percentiles over time, the latency distribution of each operation,
// memory/threads/descriptors, errors, and the capacity ramp when there is
// one), and DIR/report.html with the plots embedded as data URIs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::bench {

// The interval lines of DIR/raw.jsonl; throws std::invalid_argument naming
// the line that is not JSON.
std::vector<nlohmann::json> read_raw_lines(const std::string& path);

// RFC 4648 base64.
std::string base64(const std::string& bytes);

// Writes the plots and report.html; "" on success, else what failed.
std::string write_fleet_report(const std::string& dir);

} // namespace uvm::bench
