// uvmctl: drive the utility-VM engine from the command line.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "actors/core/logging.hpp"
#include "engine/engine.hpp"
#include "hcs/host_path.hpp"
#include "tools/uvmctl/demo.hpp"
#include "tools/uvmctl/exec.hpp"
#include "tools/uvmctl/qemu_demo.hpp"
#include "tools/uvmctl/scenario.hpp"

int main(int argc, char** argv) {
  CLI::App app{"uvmctl: utility VMs the way hcsshim's uvm package manages them"};
  app.require_subcommand(1);
  std::string log_format = "human";
  std::string log_level = "warn";
  app.add_option("--log-format", log_format, "engine log lines: human or json")
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "off"}));

  uvm::cli::demo_options demo;
  auto* demo_cmd = app.add_subcommand("demo", "create a small fleet on the simulated HCS, crash "
                                              "one VM, show the supervisor's restart, tear down");
  demo_cmd->add_option("--lcow", demo.lcow, "number of LCOW VMs")->check(CLI::Range(0, 64));
  demo_cmd->add_option("--wcow", demo.wcow, "number of WCOW VMs")->check(CLI::Range(0, 64));
  demo_cmd->add_option("--work-dir", demo.work_dir, "host folder for boot files and layers");
  demo_cmd->add_flag("--json", demo.json, "print the summary as JSON");
  std::string demo_backend = "sim";
  uvm::cli::qemu_demo_options qemu_demo;
  demo_cmd
      ->add_option("--backend", demo_backend,
                   "sim: the fleet on the simulated HCS; qemu: one real VM under QEMU")
      ->check(CLI::IsMember({"sim", "qemu"}));
  demo_cmd->add_option("--boot-files", qemu_demo.boot_files,
                       "with --backend qemu: LinuxBootFiles folder (default: qemu/LinuxBootFiles "
                       "next to uvmctl)");

  uvm::cli::exec_options exec;
  auto* exec_cmd = app.add_subcommand("exec", "run a command in the guest of a demo fleet's LCOW "
                                              "VM and relay its output: uvmctl exec VM -- CMD...");
  exec_cmd->add_option("vm", exec.vm, "lcow-1, lcow-2, ...")->required();
  exec_cmd->add_option("command", exec.command, "the command and its arguments")->required();
  exec_cmd->add_flag("-i,--interactive", exec.interactive, "relay stdin to the process");
  exec_cmd->add_option("--guest", exec.guest,
                       "in-process (sandboxed), in-process-unconfined, exec:CMD, unix:PATH or "
                       "qemu:DIR");
  exec_cmd->add_option("--work-dir", exec.work_dir, "host folder for boot files");

  std::string scenario_file;
  uvm::cli::scenario_options scenario;
  std::string run_guest = "in-process";
  std::string run_backend = "sim";
  auto* run_cmd = app.add_subcommand("run", "run a scenario file (one JSON op per line)");
  run_cmd->add_option("--guest", run_guest,
                      "the LCOW VMs' guest agent: in-process (sandboxed), in-process-unconfined, "
                      "exec:CMD, unix:PATH or qemu:DIR");
  run_cmd
      ->add_option("--backend", run_backend,
                   "the HCS backend of VMs whose options name none: sim (simulated) or qemu "
                   "(real VMs under QEMU, guest agent inside)")
      ->check(CLI::IsMember({"sim", "qemu"}));
  run_cmd->add_option("file", scenario_file, "scenario file (.jsonl), - for stdin")->required();
  run_cmd->add_option("--hcs-log", scenario.hcs_log_path,
                      "write every call the simulated HCS received (JSON lines)");
  run_cmd->add_option("--bridge-log", scenario.bridge_log_path,
                      "write every GCS bridge frame (JSON lines)");

  CLI11_PARSE(app, argc, argv);

  uvm::logging::format fmt{};
  uvm::logging::level lvl{};
  uvm::logging::parse_format(log_format, fmt);
  uvm::logging::parse_level(log_level, lvl);
  uvm::logging::init(fmt, lvl);

  if (*demo_cmd && demo_backend == "qemu") {
    qemu_demo.work_dir = demo.work_dir;
    qemu_demo.json = demo.json;
    return uvm::cli::run_qemu_demo(qemu_demo, std::cout);
  }
  if (*demo_cmd) {
    return uvm::cli::run_demo(demo, std::cout);
  }
  if (*exec_cmd) {
    return uvm::cli::run_exec(exec);
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (scenario_file == "-") {
    // std::cin then reads what a pipe holds in one system call, not a
    // byte at a time through stdio (nothing has used the streams yet).
    std::ios::sync_with_stdio(false);
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(scenario_file, ec)) {
      std::cerr << "uvmctl run: cannot read " << scenario_file << ": is a directory\n";
      return 2;
    }
    file.open(scenario_file);
    if (!file) {
      std::cerr << "uvmctl run: cannot open " << scenario_file << ": "
                << uvm::hcs::go_errno_text(errno) << "\n";
      return 2;
    }
    in = &file;
  }
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.guest = run_guest;
  cfg.backend = run_backend;
  if (run_backend == "qemu") {
    // Real VMs find their boot files where the default options look
    // (LinuxBootFiles beside the executable), in the qemu/ folder next to
    // uvmctl; simulated VMs keep the seed's defaults without them.
    cfg.host.executable_dir += "/qemu";
  }
  uvm::engine eng{cfg};
  return uvm::cli::run_scenario(eng, *in, std::cout, scenario);
}
