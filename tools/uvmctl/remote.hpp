// uvmctl against nodes (`--node HOST:PORT`, repeatable): connecting with
// mutual TLS, and the subcommands that only make sense on a node that
// outlives uvmctl (`list`, `events`).
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace uvm::cli {

struct node_options {
  std::vector<std::string> nodes; // HOST:PORT
  tls_options tls;
  bool insecure_plaintext = false;
};

using node_engines = std::vector<std::unique_ptr<engine>>;

// One connected engine per node, in the order given.
result<node_engines> connect_nodes(const node_options& opts);

// The nodes' VMs: a table, or a JSON array with --json.
int run_list(node_engines& nodes, bool json, std::ostream& out);

// Every node's events as JSON lines ({"node", "event", ...}) until `count`
// events (0: no limit) or SIGINT/SIGTERM.
int run_events(node_engines& nodes, int count, std::ostream& out);

} // namespace uvm::cli
