// The subcommands of uvm-bench, one file each; main.cpp parses the
// command line and runs one. Each prints one JSON object (compact with
// `json`, indented otherwise) and returns the process's exit code.
#pragma once

#include <string>
#include <vector>

#include "bench/storm/storm.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

// N LCOW VMs created, started and closed concurrently through the async
// API, every backend call taking `latency_us`.
int lifecycle(int vms, int latency_us, bool json);

// `vms` LCOW VMs created, started, held for `hold_s` (a stats call on each
// and a guest-mounted SCSI disk on every 100th) and closed, `rounds` times
// on one engine, at most `window` calls in flight; reports each phase's rate
// and latencies and the process's memory, threads and descriptors.
struct density_options {
  int vms = 10000;
  double hold_s = 0;
  int window = 256;
  int rounds = 2;
  unsigned io_threads = 2;
  std::string scheduler = "handoff";
  int moderate_sleep_us = 50;
  // Zero-latency simulator calls complete inside the call (as in hotplug).
  bool sim_inline = true;
  bool json = false;
};
int density(const density_options& o);

// The rate `callers` loops of one `latency` wait each reach on the
// simulator's executor alone, and how late its timers fire on average.
struct timer_floor {
  double ops_per_s = 0;
  double mean_late_us = 0;
};
timer_floor measure_timer_floor(std::chrono::microseconds latency, int callers, double seconds);

// What a program outside the engine reached running its own add/release
// loop for `seconds` (`program -seconds S`, which prints one JSON object
// with `ops_per_s` on its last line): that rate and the object. Throws
// when the program fails or prints no such object.
struct external_anchor {
  double ops_per_s = 0;
  std::string report;
};
external_anchor measure_external_anchor(const std::string& program, double seconds);

// One VM; `callers` callers, each adding then removing its own SCSI disk in
// a loop for `seconds`, every backend call taking `latency_us`.
// `metrics`: the engine counts every call (engine_config::metrics).
// `anchor`: a program measured first, in the same run, with
// measure_external_anchor; none when empty.
int hotplug(int latency_us, int callers, double seconds, bool json, const std::string& policy,
            int moderate_sleep_us, int threads, const std::string& guest, bool via_vm, bool metrics,
            const std::string& anchor);

// One VM call (ContainerCounter) `calls` times, blocking vs asynchronous.
int roundtrip(int calls, bool json);

// `calls` ModifySettings RPCs to a guest agent, `window` in flight, then
// `calls` again with 1 in flight. `guest` empty: our `gcs` (the binary
// `gcs`) started on a unix socket; "exec:CMD": CMD run by /bin/sh with its
// stdin and stdout as the bridge; "unix:PATH": an agent listening there.
int bridge_bench(std::string gcs, const std::string& guest, int calls, int window, bool json);

// An open-loop fleet run (fleet_bench.cpp): the report folder `out_dir`.
struct fleet_options {
  std::string profile;
  double seconds = 20;
  std::string out_dir;
  std::vector<std::string> nodes; // HOST:PORT of uvmd nodes; none: the embedded engine
  tls_options tls;
  double rate = 0;  // operations per second; 0: the profile's
  uint32_t vms = 0; // held VMs per node; 0: the profile's
  bool find_capacity = false;
  double p99_ms = 10; // the objective of --find-capacity
  int interval_ms = 1000;
  uint64_t seed = 1;
  bool request_log = false; // DIR/requests.jsonl: every request's intended start and latency
  // The embedded engine's log (stderr): off by default, as the injected
  // faults and crashes of a run would flood it.
  std::string log_level = "off";
  bool json = false;
};
int fleet(const fleet_options& o);

// uvm-bench soak: a fleet run of `minutes` sampled every `sample_seconds`;
// exit 0 when after `warmup_minutes` the resident set stays within ±5 % of
// its median and threads and descriptors do not grow.
struct soak_options {
  std::string profile;
  double minutes = 30;
  double warmup_minutes = 5;
  double sample_seconds = 60;
  std::string out_dir;
  double rate = 0; // 0: the profile's
  uint64_t seed = 1;
  bool json = false;
};
int soak(const soak_options& o);

// uvm-bench storm: the concurrent fault storm (bench/storm/storm.hpp) on
// the embedded engine; exit 0 when its report is clean.
int storm_bench(storm::options o, const std::string& log_level, bool json);

// uvm-bench compare A B: exit 0, 1 when a regression is flagged, 2 on bad input.
int compare_runs(const std::string& a, const std::string& b, double threshold, bool json);

// Pipelined stats and SCSI add/remove from one client to a uvmd (the
// binary `uvmd`) on loopback, plaintext and, with `tls`, mutual TLS;
// window 1 and 64; each mode's window-64 rates also as a share of CAF's own
// rate measured just before (`self_exe remote-echo` is its node).
int remote(const std::string& self_exe, const std::string& uvmd, const tls_options& tls, int calls,
           bool json);

// The anchor (remote_anchor.cpp): `uvm-bench remote-echo` serves an int
// echo actor on 127.0.0.1 (a free port, printed as "listening HOST:PORT")
// until SIGTERM; caf_echo_rate keeps `window` requests in flight to it and
// gives requests per second (0 when it cannot connect).
int remote_echo(const tls_options& tls);
double caf_echo_rate(const std::string& host, uint16_t port, const tls_options& tls, int window,
                     int calls);

} // namespace uvm::bench
