// The subcommands of uvm-bench, one file each; main.cpp parses the
// command line and runs one. Each prints one JSON object (compact with
// `json`, indented otherwise) and returns the process's exit code.
#pragma once

#include <string>

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
  std::string scheduler = "stealing";
  int moderate_sleep_us = 50;
  // Zero-latency simulator calls complete inside the call (as in hotplug).
  bool sim_inline = true;
  bool json = false;
};
int density(const density_options& o);

// One VM; `callers` callers, each adding then removing its own SCSI disk in
// a loop for `seconds`, every backend call taking `latency_us`.
// `metrics`: the engine counts every call (engine_config::metrics).
int hotplug(int latency_us, int callers, double seconds, bool json, const std::string& policy,
            int moderate_sleep_us, int threads, const std::string& guest, bool via_vm,
            bool metrics);

// One VM call (ContainerCounter) `calls` times, blocking vs asynchronous.
int roundtrip(int calls, bool json);

// `calls` ModifySettings RPCs to a `gcs` child over a unix socket, `window`
// in flight, then `calls` again with 1 in flight.
int bridge_bench(std::string gcs, int calls, int window, bool json);

// Pipelined stats and SCSI add/remove from one client to a uvmd (the
// binary `uvmd`) on loopback, plaintext and, with `tls`, mutual TLS;
// window 1 and 64.
int remote(const std::string& uvmd, const tls_options& tls, int calls, bool json);

} // namespace uvm::bench
