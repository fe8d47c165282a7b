// The scenario runner's op table and the helpers the ops share: each op
// takes the runner and its input line and returns a JSON result or an error.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "tools/uvmctl/json_fields.hpp"

namespace uvm::cli {

using json = nlohmann::json;
using op_result = result<json>;

struct runner {
  engine& eng;                           // the first of `engines`
  std::map<std::string, utility_vm> vms; // scenario name -> VM
  // "<vm>/<name>" -> containers and detached processes of the scenario.
  std::map<std::string, guest_container> containers;
  std::map<std::string, guest_process> processes;
  // Several nodes (uvmctl --node a --node b): where each VM was placed.
  std::vector<engine*> engines;
  std::map<std::string, engine*> placed;
};

using op_fn = std::function<op_result(runner&, const json&)>;
// One op: the line members it reads, as `uvmctl run --help` lists them
// ("vm" first when it needs a VM; [x] optional; (a | b) one of them; "" for
// none), and what it does. The runner dispatches from this table and the
// help is printed from it.
struct op {
  std::string arguments;
  op_fn run;
};
using op_table = std::map<std::string, op>;

// A malformed line (errc::bad_request).
error bad(std::string text);
// null on success.
op_result from(const error& e);

template <class T>
op_result from(const result<T>& r) {
  if (!r) {
    return r.err();
  }
  return json(*r);
}

// The line's "vm" (the scenario's name for a VM), or "".
std::string vm_name(const json& line);
// Runs `fn` on the VM the line's "vm" names.
op_result with_vm(runner& r, const json& line, const std::function<op_result(utility_vm&)>& fn);
// The line's "activity_id", or "".
std::string activity_of(const json& line);
// A required string argument; the error names it.
result<std::string> string_arg(const json& line, const char* name);

// The device ops besides SCSI (uvm-api.md §8-§13).
void add_device_ops(op_table& table);
// Containers, processes, capabilities and stacks (uvm-api.md §6, §15).
void add_guest_ops(op_table& table);

} // namespace uvm::cli
