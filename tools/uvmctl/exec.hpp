// `uvmctl exec VM -- CMD...`: runs a real process in the guest of one of
// the demo fleet's LCOW VMs (lcow-1, lcow-2, ...) and relays its output as
// it comes; uvmctl exits with the process's exit code.
#pragma once

#include <string>
#include <vector>

namespace uvm {
class engine;
class utility_vm;
} // namespace uvm

namespace uvm::cli {

struct exec_options {
  std::string vm = "lcow-1";
  std::vector<std::string> command;
  bool interactive = false; // relay uvmctl's stdin to the process
  std::string guest = "in-process";
  std::string work_dir;
};

// The process's exit code, or 125 when it could not be run.
int run_exec(const exec_options& opts);
// Runs the command in `vm` and relays its stdio; returns its exit code.
int run_in_vm(utility_vm& vm, const exec_options& opts);
// In the VM of id opts.vm on the node `eng` is connected to.
int run_exec_on(engine& eng, const exec_options& opts);

} // namespace uvm::cli
