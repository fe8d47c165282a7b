// uvm-bench: load and benchmark harness for the engine (benches.hpp).
//   uvm-bench lifecycle --vms N --latency-us L [--json]
//     N LCOW VMs created, started and closed concurrently through the async
//     API, every backend call taking L µs.
//   uvm-bench hotplug --latency-us L --callers G --seconds S [--json]
//     one VM; G callers, each adding then removing its own SCSI disk in a
//     loop, every backend call taking L µs. Reports ops_per_s (adds and
//     releases completed per second) and the p50/p99 latencies of each.
//     The guest step goes to the guest stub unless --guest says otherwise.
//   uvm-bench roundtrip --calls N [--json]
//     one VM call (ContainerCounter) N times, blocking vs asynchronous, in
//     the same run.
//   uvm-bench remote [--uvmd PATH] [--cert F --key F --ca F] [--calls N] [--json]
//     pipelined stats and SCSI add/remove from one client to a uvmd it
//     starts on loopback, plaintext and (with certificates) mutual TLS,
//     window 1 and 64: ops/s, p50, p99.
//   uvm-bench bridge [--gcs PATH] --calls N --window W [--json]
//     N ModifySettings RPCs (SCSI mount add/remove) to a `gcs` child over a
//     unix socket, W in flight, then N again with 1 in flight.
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "bench/benches.hpp"
#include "bench/qemu_bench.hpp"
#include "engine/engine.hpp"
#include "uvm_version.hpp"

using namespace uvm::bench;

namespace {

// The folder of this executable (uvmd is built next to it).
std::filesystem::path fs_exe_dir() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvm-bench: load and benchmark harness (simulated HCS)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"uvm-bench "} + uvm::version_string);
  bool json = false;
  app.add_flag("--json", json, "one JSON object on one line");

  int vms = 1000;
  int latency_us = 1000;
  auto* lc = app.add_subcommand("lifecycle", "create, start and close N VMs concurrently");
  lc->add_option("--vms", vms, "number of VMs")->check(CLI::Range(1, 1000000));
  lc->add_option("--latency-us", latency_us, "latency of every backend call")
      ->check(CLI::Range(0, 10000000));
  lc->add_flag("--json", json, "one JSON object on one line");

  density_options dopt;
  std::string sim_completions = "inline";
  auto* dn = app.add_subcommand("density", "a fleet of N VMs created, started, held and closed in "
                                           "one engine: rates, latencies, memory, threads, fds");
  dn->add_option("--vms", dopt.vms, "number of VMs")->check(CLI::Range(1, 10000000));
  dn->add_option("--hold-s", dopt.hold_s, "seconds the fleet is held up")
      ->check(CLI::Range(0.0, 3600.0));
  dn->add_option("--window", dopt.window, "calls in flight at most")->check(CLI::Range(1, 100000));
  dn->add_option("--rounds", dopt.rounds, "fleets, one after another, on the same engine")
      ->check(CLI::Range(1, 100));
  dn->add_option("--io-threads", dopt.io_threads, "threads of the engine's I/O loop")
      ->check(CLI::Range(1, 64));
  dn->add_option("--sim-completions", sim_completions,
                 "zero-latency simulator calls complete inside the call (inline, as hotplug "
                 "runs) or on its timer thread (thread, the engine's default)")
      ->check(CLI::IsMember({"inline", "thread"}));
  dn->add_option("--scheduler", dopt.scheduler, "CAF scheduler policy")
      ->check(CLI::IsMember({"stealing", "sharing"}));
  dn->add_option("--moderate-sleep-us", dopt.moderate_sleep_us,
                 "work stealing: idle worker sleep between polls")
      ->check(CLI::Range(0, 100000));
  dn->add_flag("--json", dopt.json, "one JSON object on one line");

  int calls = 20000;
  std::string uvmd_path;
  uvm::tls_options remote_tls;
  int remote_calls = 20000;
  auto* rm = app.add_subcommand("remote", "pipelined calls to a uvmd on loopback, plaintext and "
                                          "mutual TLS, window 1 and 64");
  rm->add_option("--uvmd", uvmd_path, "the uvmd binary (default: next to uvm-bench)");
  rm->add_option("--cert", remote_tls.certificate, "certificate for both ends (TLS run)");
  rm->add_option("--key", remote_tls.key, "its key");
  rm->add_option("--ca", remote_tls.ca_file, "the CA that signed it");
  rm->add_option("--calls", remote_calls, "ops per run at window 64 (a tenth at window 1)")
      ->check(CLI::Range(10, 10000000));
  rm->add_flag("--json", json, "one JSON object on one line");

  auto* rt = app.add_subcommand("roundtrip", "blocking vs asynchronous VM call round trip");
  rt->add_option("--calls", calls, "number of calls")->check(CLI::Range(1, 100000000));
  rt->add_flag("--json", json, "one JSON object on one line");

  int callers = 64;
  double seconds = 5;
  int hp_latency_us = 1000;
  auto* hp = app.add_subcommand("hotplug", "SCSI add/remove loops of G callers on one VM");
  hp->add_option("--latency-us", hp_latency_us, "latency of every backend call")
      ->check(CLI::Range(0, 10000000));
  hp->add_option("--callers", callers, "concurrent callers (each its own disk)")
      ->check(CLI::Range(1, 256));
  hp->add_option("--seconds", seconds, "how long to run")->check(CLI::Range(0.1, 3600.0));
  hp->add_flag("--json", json, "one JSON object on one line");
  std::string policy = "stealing";
  int moderate_sleep_us = 50;
  int threads = 2;
  // The stub answers the guest step inside the engine, as the fakes of a
  // SCSI-manager benchmark do; in-process adds the bridge protocol and two
  // thread hops per guest request.
  std::string guest = "stub";
  hp->add_option("--scheduler", policy, "CAF scheduler policy")
      ->check(CLI::IsMember({"stealing", "sharing"}));
  hp->add_option("--guest", guest,
                 "the VM's guest agent: stub (the guest's mount table, no protocol; default), "
                 "in-process (the bridge protocol over a socketpair), in-process-unconfined, "
                 "exec:CMD, unix:PATH");
  hp->add_option("--scheduler-threads", threads, "CAF scheduler threads")->check(CLI::Range(1, 64));
  bool via_vm = false;
  hp->add_flag("--via-vm", via_vm,
               "send the calls to the VM, which routes them to its SCSI child (default: to the "
               "SCSI child, as handed out by the VM)");
  hp->add_option("--moderate-sleep-us", moderate_sleep_us,
                 "work stealing: idle worker sleep between polls")
      ->check(CLI::Range(0, 100000));

  std::string gcs;
  int br_calls = 200000;
  int window = 64;
  auto* br = app.add_subcommand("bridge", "pipelined GCS RPCs to a gcs child over a unix socket");
  br->add_option("--gcs", gcs, "the guest agent (default: gcs next to uvm-bench)");
  br->add_option("--calls", br_calls, "RPCs per pass")->check(CLI::Range(1, 100000000));
  // One slot per SCSI address: 4 controllers of 64 LUNs.
  br->add_option("--window", window, "RPCs in flight")->check(CLI::Range(1, 256));
  br->add_flag("--json", json, "one JSON object on one line");

  int runs = 5;
  std::string boot_files;
  auto* qb = app.add_subcommand("qemu", "real VMs on the QEMU backend: boot-to-ready and hot-add "
                                        "latencies (medians of several runs)");
  qb->add_option("--runs", runs, "VMs booted one after another")->check(CLI::Range(1, 100));
  qb->add_option("--boot-files", boot_files,
                 "LinuxBootFiles folder (default: qemu/LinuxBootFiles next to uvm-bench)");
  qb->add_flag("--json", json, "one JSON object on one line");

  CLI11_PARSE(app, argc, argv);
  if (*qb) {
    if (boot_files.empty()) {
      boot_files = uvm::detect_host().executable_dir + "/qemu/LinuxBootFiles";
    }
    return uvm::bench::qemu_bench(boot_files, runs, json);
  }
  if (*br) {
    return bridge_bench(gcs, br_calls, window, json);
  }
  if (*lc) {
    return lifecycle(vms, latency_us, json);
  }
  if (*dn) {
    dopt.sim_inline = sim_completions == "inline";
    dopt.json = dopt.json || json;
    return density(dopt);
  }
  if (*hp) {
    return hotplug(hp_latency_us, callers, seconds, json, policy, moderate_sleep_us, threads, guest,
                   via_vm);
  }
  if (*rm) {
    if (uvmd_path.empty()) {
      uvmd_path = (fs_exe_dir() / "uvmd").string();
    }
    return remote(uvmd_path, remote_tls, remote_calls, json);
  }
  return roundtrip(calls, json);
}
