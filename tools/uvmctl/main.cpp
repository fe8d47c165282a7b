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
#include "tools/uvmctl/remote.hpp"
#include "tools/uvmctl/scenario.hpp"
#include "uvm_version.hpp"

namespace {

// Opens the scenario file (or stdin for "-"); exit code 2 and a message when it cannot.
int open_scenario(const std::string& path, std::ifstream& file, std::istream*& in) {
  in = &std::cin;
  if (path == "-") {
    // std::cin then reads what a pipe holds in one system call, not a
    // byte at a time through stdio (nothing has used the streams yet).
    std::ios::sync_with_stdio(false);
    return 0;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::cerr << "uvmctl run: cannot read " << path << ": is a directory\n";
    return 2;
  }
  file.open(path);
  if (!file) {
    std::cerr << "uvmctl run: cannot open " << path << ": " << uvm::hcs::go_errno_text(errno)
              << "\n";
    return 2;
  }
  in = &file;
  return 0;
}

int run_on_nodes(const uvm::cli::node_options& nodes, CLI::App& app,
                 const std::string& scenario_file, const uvm::cli::scenario_options& scenario,
                 const uvm::cli::exec_options& exec, bool list_json, int events_count) {
  auto* sub = app.get_subcommands().front();
  std::string name = sub->get_name();
  if (name == "demo") {
    std::cerr << "uvmctl: demo runs on an embedded engine (no --node)\n";
    return 2;
  }
  if (name == "run" && (!scenario.hcs_log_path.empty() || !scenario.bridge_log_path.empty())) {
    std::cerr << "uvmctl run: --hcs-log and --bridge-log record an embedded engine; a node's "
                 "calls are not sent to its clients\n";
    return 2;
  }
  if (name == "exec" && nodes.nodes.size() != 1) {
    std::cerr << "uvmctl exec: give one --node\n";
    return 2;
  }
  std::ifstream file;
  std::istream* in = nullptr;
  if (name == "run") {
    if (int rc = open_scenario(scenario_file, file, in)) {
      return rc;
    }
  }
  auto engines = uvm::cli::connect_nodes(nodes);
  if (!engines) {
    std::cerr << "uvmctl: " << engines.err().text << "\n";
    return 2;
  }
  if (name == "list") {
    return uvm::cli::run_list(*engines, list_json, std::cout);
  }
  if (name == "events") {
    return uvm::cli::run_events(*engines, events_count, std::cout);
  }
  if (name == "exec") {
    return uvm::cli::run_exec_on(*engines->front(), exec);
  }
  std::vector<uvm::engine*> all;
  for (auto& e : *engines) {
    all.push_back(e.get());
  }
  return uvm::cli::run_scenario(all, *in, std::cout, scenario);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvmctl: utility VMs the way hcsshim's uvm package manages them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"uvmctl "} + uvm::version_string);
  std::string log_format = "human";
  std::string log_level = "warn";
  app.add_option("--log-format", log_format, "engine log lines: human or json")
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "off"}));

  uvm::cli::node_options nodes;
  app.add_option("--node", nodes.nodes,
                 "drive the engine of a uvmd node, HOST:PORT (repeat for several: run places "
                 "each new VM on the node with the fewest VMs)");
  app.add_option("--cert", nodes.tls.certificate, "with --node: this client's certificate (PEM)");
  app.add_option("--key", nodes.tls.key, "with --node: this client's private key (PEM)");
  app.add_option("--ca", nodes.tls.ca_file,
                 "with --node: the CA that signed the node's certificate");
  app.add_flag("--insecure-plaintext", nodes.insecure_plaintext,
               "with --node: no TLS (a node started with --insecure-plaintext, on 127.0.0.1)");

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
  auto* exec_guest_opt =
      exec_cmd->add_option("--guest", exec.guest,
                           "in-process (sandboxed), in-process-unconfined, exec:CMD, unix:PATH or "
                           "qemu:DIR");
  exec_cmd->add_option("--work-dir", exec.work_dir, "host folder for boot files");

  std::string scenario_file;
  uvm::cli::scenario_options scenario;
  std::string run_guest = "in-process";
  std::string run_backend = "sim";
  auto* run_cmd = app.add_subcommand("run", "run a scenario file (one JSON op per line)");
  auto* run_guest_opt =
      run_cmd->add_option("--guest", run_guest,
                          "the LCOW VMs' guest agent: in-process (sandboxed), "
                          "in-process-unconfined, exec:CMD, unix:PATH or qemu:DIR");
  auto* run_backend_opt =
      run_cmd
          ->add_option("--backend", run_backend,
                       "the HCS backend of VMs whose options name none: sim (simulated) or qemu "
                       "(real VMs under QEMU, guest agent inside)")
          ->check(CLI::IsMember({"sim", "qemu"}));
  bool qemu_unconfined_root = false;
  run_cmd->add_flag("--qemu-unconfined-root", qemu_unconfined_root,
                    "QEMU keeps root and the engine's cgroup (default: a uid of its own, granted "
                    "its disks by vm_access, in a cgroup of its own)");
  run_cmd->add_option("file", scenario_file, "scenario file (.jsonl), - for stdin")->required();
  run_cmd->add_option("--hcs-log", scenario.hcs_log_path,
                      "write every call the simulated HCS received (JSON lines)");
  run_cmd->add_option("--bridge-log", scenario.bridge_log_path,
                      "write every GCS bridge frame (JSON lines)");
  run_cmd->add_flag("--keep-vms", scenario.keep_vms,
                    "with --node: leave the scenario's VMs on the node (else closed at the end)");
  run_cmd->footer(uvm::cli::scenario_ops_help());

  bool list_json = false;
  auto* list_cmd = app.add_subcommand("list", "show the VMs of the --node nodes");
  list_cmd->add_flag("--json", list_json, "a JSON array instead of a table");

  int events_count = 0;
  auto* events_cmd = app.add_subcommand(
      "events", "follow the event bus of the --node nodes (JSON lines) until SIGINT/SIGTERM");
  events_cmd->add_option("--count", events_count, "stop after this many events")
      ->check(CLI::Range(0, 1 << 30));

  CLI11_PARSE(app, argc, argv);

  uvm::logging::format fmt{};
  uvm::logging::level lvl{};
  uvm::logging::parse_format(log_format, fmt);
  uvm::logging::parse_level(log_level, lvl);
  uvm::logging::init(fmt, lvl);

  if (!nodes.nodes.empty()) {
    // A node's engine was made by its uvmd: what it runs is its own.
    if (run_guest_opt->count() > 0 || run_backend_opt->count() > 0 || exec_guest_opt->count() > 0) {
      std::cerr << "uvmctl: --guest and --backend choose the embedded engine's guest and "
                   "backend; a node's are set by its uvmd (uvmd --guest, --backend)\n";
      return 2;
    }
    return run_on_nodes(nodes, app, scenario_file, scenario, exec, list_json, events_count);
  }
  if (*list_cmd || *events_cmd) {
    std::cerr << "uvmctl: list and events need --node HOST:PORT (an embedded engine lives "
                 "only as long as one uvmctl command)\n";
    return 2;
  }
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
  std::istream* in = nullptr;
  if (int rc = open_scenario(scenario_file, file, in)) {
    return rc;
  }
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.guest = run_guest;
  cfg.backend = run_backend;
  cfg.qemu.unconfined_root = qemu_unconfined_root;
  if (run_backend == "qemu") {
    // Real VMs find their boot files where the default options look
    // (LinuxBootFiles beside the executable), in the qemu/ folder next to
    // uvmctl; simulated VMs keep the seed's defaults without them.
    cfg.host.executable_dir += "/qemu";
  }
  uvm::engine eng{cfg};
  return uvm::cli::run_scenario(eng, *in, std::cout, scenario);
}
