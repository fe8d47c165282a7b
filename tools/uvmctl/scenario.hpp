// The scenario runner (`uvmctl run FILE.jsonl`): one JSON object per line,
// executed in order against an embedded engine; one JSON result line per
// input line. A public interface: op names, argument names and the output
// format stay stable.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace uvm::cli {

struct scenario_options {
  std::string hcs_log_path;    // every call the simulated HCS received
  std::string bridge_log_path; // every bridge message of every VM (and the stub's exchanges)
  bool keep_vms = false;       // with --node: leave the scenario's VMs on the node
};

// Returns the process exit code: 0 when the file ran (failed ops are
// results), non-zero when the file or a log could not be opened/read.
int run_scenario(engine& eng, std::istream& in, std::ostream& out, const scenario_options& opts);
// Against several nodes: each new VM goes to the node with the fewest VMs,
// or to the one its line's "node" names (HOST:PORT, or its index from 0).
int run_scenario(const std::vector<engine*>& engines, std::istream& in, std::ostream& out,
                 const scenario_options& opts);

// `uvmctl run --help`'s list of ops and their members, from the table the
// runner dispatches on.
std::string scenario_ops_help();

} // namespace uvm::cli
