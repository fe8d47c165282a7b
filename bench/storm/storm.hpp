// The concurrent fault storm: many LCOW VMs (restart policy on-failure) and
// many caller threads doing random SCSI, VPMEM, Plan9 and network namespace
// adds and removes, and a few guest processes, in blocking and asynchronous
// forms, some adds with caller deadlines of 0-5 ms. Meanwhile a share of HCS
// modify calls fail, guest faults are armed on about as many operations,
// and a VM crashes every `crash_every` operations and comes back.
//
// The CI test (tests/actors/storm_test.cpp) runs it at 100k operations and
// `uvm-bench storm` at any size; both judge the same report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/options.hpp"

namespace uvm::storm {

struct options {
  host_info host;
  uint64_t ops = 100000; // all callers together
  int vms = 100;
  int callers = 64;
  int phases = 4; // a quiescent check after each
  double hcs_fault_rate = 0.01;
  double guest_fault_rate = 0.01;
  uint64_t crash_every = 2000;
  uint64_t seed = 0x5eed;
};

// What a storm did and found. `clean()` is the verdict: no mismatch, no
// unexplained error, no kept late reply, the crashes all happened, and
// threads, descriptors and actors came back after every VM was closed.
struct report {
  uint64_t ops = 0;
  uint64_t ok = 0;
  uint64_t async_calls = 0;
  uint64_t deadline_calls = 0;
  uint64_t processes = 0;
  uint64_t crashes = 0;
  uint64_t expected_crashes = 0;
  uint64_t restarts = 0;
  uint64_t restarted_vms = 0; // VMs found restarted at a quiescent check
  uint64_t guest_faults = 0;
  uint64_t released_at_end = 0;
  uint64_t late_undone = 0;
  uint64_t late_kept = 0;
  std::map<std::string, uint64_t> errors; // errc name -> count
  std::map<std::string, uint64_t> causes; // what some error texts say
  uint64_t mismatches = 0;
  std::vector<std::string> mismatch_texts; // the first 20
  uint64_t unexpected = 0;
  std::vector<std::string> unexpected_texts; // the first 20
  size_t threads_at_start = 0;
  size_t threads_at_end = 0;
  size_t fds_at_start = 0;
  size_t fds_at_end = 0;
  std::vector<std::string> new_fds; // what descriptors left open point at
  size_t actors_at_start = 0;
  size_t actors_at_end = 0;
  bool threads_back = false;
  bool fds_back = false;
  bool actors_back = false;
  double storm_seconds = 0;
  // Set when the storm stopped early: the engine did not settle, or a VM
  // could not be created or read.
  std::string failure;

  bool clean() const;
  nlohmann::json to_json() const;
  std::string summary() const;
};

// Runs a storm on a fresh embedded engine (simulated HCS, in-process
// guest) whose host folder is a temporary directory.
report run(const options& o);

} // namespace uvm::storm
