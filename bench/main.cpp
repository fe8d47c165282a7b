// uvm-bench: load and benchmark harness for the engine (benches.hpp).
//   uvm-bench lifecycle --vms N --latency-us L [--json]
//     N LCOW VMs created, started and closed concurrently through the async
//     API, every backend call taking L µs.
//   uvm-bench hotplug --latency-us L --callers G --seconds S [--metrics on|off]
//                     [--anchor PROGRAM] [--json]
//     one VM; G callers, each adding then removing its own SCSI disk in a
//     loop, every backend call taking L µs. Reports ops_per_s (adds and
//     releases completed per second) and the p50/p99 latencies of each.
//     The guest step goes to the guest stub unless --guest says otherwise.
//     --anchor: PROGRAM's own loop first, in the same run, and the ratio.
//   uvm-bench roundtrip --calls N [--json]
//     one VM call (ContainerCounter) N times, blocking vs asynchronous, in
//     the same run.
//   uvm-bench remote [--uvmd PATH] [--cert F --key F --ca F] [--calls N] [--json]
//     pipelined stats and SCSI add/remove from one client to a uvmd it
//     starts on loopback, plaintext and (with certificates) mutual TLS,
//     window 1 and 64: ops/s, p50, p99; each mode's anchor, CAF's own
//     rate, comes first from a `uvm-bench remote-echo` child.
//   uvm-bench bridge [--gcs PATH | --guest exec:CMD|unix:PATH] --calls N --window W [--json]
//     N ModifySettings RPCs (SCSI mount add/remove) to a guest agent, W in
//     flight, then N again with 1 in flight: our `gcs` started on a unix
//     socket, any agent started with its stdio as the bridge (exec:), or
//     one listening on a unix socket (unix:).
//   uvm-bench fleet --profile FILE --seconds S --out DIR [--node HOST:PORT ...] [--rate R]
//                   [--find-capacity --p99-ms X]
//     open-loop mixed load on the embedded engine or uvmd nodes; writes
//     DIR/raw.jsonl, DIR/summary.json, DIR/report.html (bench/fleet_bench.cpp).
//   uvm-bench soak --minutes M --out DIR [--profile FILE] [--rate R] [--sample-seconds S]
//     a fleet run sampled once a minute; exit 1 unless the resident set
//     stays within ±5 % after the warm-up and threads and fds stay put.
//   uvm-bench storm [--ops N] [--vms V] [--callers C] [--crash-every K] [--json]
//     the concurrent fault storm: V VMs, C callers, injected HCS and guest
//     faults, crashes and restarts, random deadlines; exit 1 unless no view
//     differs from the oracle and nothing leaked (bench/storm/storm.hpp).
//   uvm-bench compare A B [--threshold T] [--json]
//     two fleet runs side by side; exit 1 when a regression beyond noise
//     is flagged, 2 on bad input (bench/core/run_compare.hpp).
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

// A shipped profile: share/uvm-bench/profiles beside an installed
// uvm-bench, else the source tree's.
std::string default_profile(const std::string& name) {
  auto installed = fs_exe_dir().parent_path() / "share" / "uvm-bench" / "profiles" / name;
  std::error_code ec;
  if (std::filesystem::exists(installed, ec)) {
    return installed.string();
  }
  return (std::filesystem::path{UVM_BENCH_PROFILES} / name).string();
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
  dn->add_option("--scheduler", dopt.scheduler,
                 "scheduler: the engine's (handoff) or CAF's (stealing, sharing)")
      ->check(CLI::IsMember({"handoff", "stealing", "sharing"}));
  dn->add_option("--moderate-sleep-us", dopt.moderate_sleep_us,
                 "an idle worker's sleep between polls (stealing) or nap (handoff)")
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
  // The anchor's node, which `remote` starts; not for direct use.
  auto* echo = app.add_subcommand("remote-echo", "")->group("");
  echo->add_option("--cert", remote_tls.certificate);
  echo->add_option("--key", remote_tls.key);
  echo->add_option("--ca", remote_tls.ca_file);

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
  std::string policy = "handoff";
  int moderate_sleep_us = 50;
  int threads = 2;
  // The stub answers the guest step inside the engine, as the fakes of a
  // SCSI-manager benchmark do; in-process adds the bridge protocol and two
  // thread hops per guest request.
  std::string guest = "stub";
  hp->add_option("--scheduler", policy,
                 "scheduler: the engine's (handoff) or CAF's (stealing, sharing)")
      ->check(CLI::IsMember({"handoff", "stealing", "sharing"}));
  hp->add_option("--guest", guest,
                 "the VM's guest agent: stub (the guest's mount table, no protocol; default), "
                 "in-process (the bridge protocol over a socketpair), in-process-unconfined, "
                 "exec:CMD, unix:PATH");
  hp->add_option("--scheduler-threads", threads, "CAF scheduler threads")->check(CLI::Range(1, 64));
  std::string hp_anchor;
  hp->add_option("--anchor", hp_anchor,
                 "a program run first, in the same run, as `PROGRAM -seconds S`, printing one JSON "
                 "object with ops_per_s (bench/anchor/ builds hcsshim's SCSI manager as one); the "
                 "report gives it and of_anchor");
  bool via_vm = false;
  hp->add_flag("--via-vm", via_vm,
               "send the calls to the VM, which routes them to its SCSI child (default: to the "
               "SCSI child, as handed out by the VM)");
  std::string hp_metrics = "off";
  hp->add_option("--metrics", hp_metrics,
                 "the engine counts every call, as uvmd --metrics-listen makes it (on), or not")
      ->check(CLI::IsMember({"on", "off"}));
  hp->add_option("--moderate-sleep-us", moderate_sleep_us,
                 "an idle worker's sleep between polls (stealing) or nap (handoff)")
      ->check(CLI::Range(0, 100000));

  std::string gcs;
  int br_calls = 200000;
  int window = 64;
  auto* br = app.add_subcommand("bridge", "pipelined GCS RPCs to a gcs child over a unix socket");
  std::string br_guest;
  br->add_option("--gcs", gcs,
                 "our gcs binary, started on a unix socket (default: next to "
                 "uvm-bench)");
  br->add_option("--guest", br_guest,
                 "any agent speaking the bridge protocol: exec:CMD (started with its stdin and "
                 "stdout as the bridge) or unix:PATH (a socket it listens on)")
      ->excludes("--gcs");
  br->add_option("--calls", br_calls, "RPCs per pass")->check(CLI::Range(1, 100000000));
  // One slot per SCSI address: 4 controllers of 64 LUNs.
  br->add_option("--window", window, "RPCs in flight")->check(CLI::Range(1, 256));
  br->add_flag("--json", json, "one JSON object on one line");

  fleet_options fo;
  auto* fl = app.add_subcommand("fleet", "open-loop mixed load on a fleet (embedded engine or "
                                         "uvmd nodes): raw intervals, summary and HTML report");
  fl->add_option("--profile", fo.profile, "profile JSON (bench/profiles/)")->required();
  fl->add_option("--seconds", fo.seconds, "length of the run")->check(CLI::Range(0.5, 86400.0));
  fl->add_option("--out", fo.out_dir, "report folder (created)")->required();
  fl->add_option("--node", fo.nodes, "a uvmd node HOST:PORT (repeat for several)");
  fl->add_option("--cert", fo.tls.certificate, "client certificate for the nodes");
  fl->add_option("--key", fo.tls.key, "its key");
  fl->add_option("--ca", fo.tls.ca_file, "the CA of the nodes");
  fl->add_option("--rate", fo.rate, "target operations per second (default: the profile's)")
      ->check(CLI::Range(0.01, 1e7));
  fl->add_option("--vms", fo.vms, "held VMs per node (default: the profile's)")
      ->check(CLI::Range(1, 10000000));
  fl->add_flag("--find-capacity", fo.find_capacity,
               "ramp the rate in steps (the profile's capacity field); the capacity is the "
               "highest rate whose p99 meets --p99-ms without errors");
  fl->add_option("--p99-ms", fo.p99_ms, "latency objective of --find-capacity")
      ->check(CLI::Range(0.001, 1e6));
  fl->add_option("--interval-ms", fo.interval_ms, "length of a raw interval")
      ->check(CLI::Range(50, 60000));
  fl->add_option("--seed", fo.seed, "arrivals and mix randomness");
  fl->add_flag("--request-log", fo.request_log,
               "also write DIR/requests.jsonl: each request's intended start and latency");
  fl->add_option("--log-level", fo.log_level, "the embedded engine's log on stderr (default off)");
  fl->add_flag("--json", fo.json, "one JSON object on one line");

  soak_options so;
  auto* sk = app.add_subcommand("soak", "a long fleet run (VM and device churn) sampled once a "
                                        "minute: RSS flat within 5% after warm-up, threads and "
                                        "fds steady");
  sk->add_option("--minutes", so.minutes, "length of the run")->check(CLI::Range(0.1, 10080.0));
  sk->add_option("--warmup-minutes", so.warmup_minutes, "samples not judged")
      ->check(CLI::Range(0.0, 10080.0));
  sk->add_option("--sample-seconds", so.sample_seconds, "one sample every S seconds")
      ->check(CLI::Range(1.0, 3600.0));
  sk->add_option("--out", so.out_dir, "report folder (created)")->required();
  sk->add_option("--profile", so.profile, "profile JSON (default: soak.json of bench/profiles)");
  sk->add_option("--rate", so.rate, "target operations per second (default: the profile's)")
      ->check(CLI::Range(0.01, 1e7));
  sk->add_option("--seed", so.seed, "arrivals and mix randomness");
  sk->add_flag("--json", so.json, "one JSON object on one line");

  uvm::storm::options st;
  auto* sm = app.add_subcommand("storm", "concurrent fault storm: many VMs and callers, faults, "
                                         "crashes and deadlines, checked against the oracle");
  sm->add_option("--ops", st.ops, "operations, all callers together")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  sm->add_option("--vms", st.vms, "utility VMs")->check(CLI::Range(1, 100000));
  sm->add_option("--callers", st.callers, "caller threads")->check(CLI::Range(1, 1024));
  sm->add_option("--phases", st.phases, "quiescent checks during the run")
      ->check(CLI::Range(1, 1000));
  sm->add_option("--hcs-fault-rate", st.hcs_fault_rate, "share of HCS modify calls that fail")
      ->check(CLI::Range(0.0, 1.0));
  sm->add_option("--guest-fault-rate", st.guest_fault_rate,
                 "share of operations that arm a guest fault")
      ->check(CLI::Range(0.0, 1.0));
  sm->add_option("--crash-every", st.crash_every, "a VM crashes every K operations (0: never)");
  sm->add_option("--seed", st.seed, "the callers' randomness");
  std::string storm_log = "off";
  sm->add_option("--log-level", storm_log, "the engine's log on stderr (default off)");
  sm->add_flag("--json", json, "one JSON object on one line");

  std::string cmp_a;
  std::string cmp_b;
  double cmp_threshold = 0.1;
  auto* cp = app.add_subcommand("compare", "two fleet runs side by side; exit 1 on regressions");
  cp->add_option("A", cmp_a, "the baseline report folder")->required();
  cp->add_option("B", cmp_b, "the report folder to judge")->required();
  cp->add_option("--threshold", cmp_threshold, "relative change always within noise")
      ->check(CLI::Range(0.0, 10.0));
  cp->add_flag("--json", json, "one JSON object on one line");

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
    return bridge_bench(gcs, br_guest, br_calls, window, json);
  }
  if (*fl) {
    fo.json = fo.json || json;
    return fleet(fo);
  }
  if (*sm) {
    return storm_bench(st, storm_log, json);
  }
  if (*cp) {
    return compare_runs(cmp_a, cmp_b, cmp_threshold, json);
  }
  if (*sk) {
    so.json = so.json || json;
    if (so.profile.empty()) {
      so.profile = default_profile("soak.json");
    }
    return soak(so);
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
                   via_vm, hp_metrics == "on", hp_anchor);
  }
  if (*rm) {
    if (uvmd_path.empty()) {
      uvmd_path = (fs_exe_dir() / "uvmd").string();
    }
    return remote(std::filesystem::read_symlink("/proc/self/exe").string(), uvmd_path, remote_tls,
                  remote_calls, json);
  }
  if (*echo) {
    return remote_echo(remote_tls);
  }
  return roundtrip(calls, json);
}
