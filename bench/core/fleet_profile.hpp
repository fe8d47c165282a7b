// A fleet profile (bench/profiles/*.json): the mix of operations of an
// open-loop run, its arrival process and default rate, the VMs held up
// during the run, the simulated HCS's latencies, and the capacity ramp.
// Parsed strictly: unknown fields, unknown operations and bad values are
// errors that name the field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/core/arrival_schedule.hpp"

namespace uvm::bench {

// The operations a fleet run mixes; each arrival is one of them, measured
// from its intended start to the end of its last step.
enum class fleet_op {
  vm_churn,    // create, start and close a VM
  scsi,        // attach then detach a SCSI disk on a held VM
  vpmem,       // attach then detach a VPMEM layer
  plan9,       // add then remove a Plan9 share
  process,     // run a process in the guest and wait for its exit
  stats,       // a VM's statistics
  hcs_fault,   // the HCS fails the VM's next modify; a SCSI attach meets it
  guest_fault, // the guest fails the VM's next request; a SCSI attach meets it
  crash        // create and start a VM, crash it in the HCS, wait for its exit, close it
};

constexpr int fleet_op_count = 9;
const char* fleet_op_name(fleet_op op);
// Throws std::invalid_argument for an unknown name.
fleet_op parse_fleet_op(const std::string& name);

struct sim_latency_range {
  uint32_t min_us = 0;
  uint32_t max_us = 0;
};

// Steps of rate for --find-capacity: start, start*factor, ... up to max.
struct capacity_ramp {
  double start_rate = 100;
  double factor = 1.5;
  double max_rate = 100000;
  double step_seconds = 5;
};

// A stall of the embedded engine's dispatcher (every asynchronous call and
// answer passes through it) at `at_s` for `ms`: the open-loop check.
struct dispatcher_stall {
  double at_s = 0;
  uint32_t ms = 0;
};

struct fleet_profile {
  std::string name;
  std::string description;
  arrival_kind arrival = arrival_kind::poisson;
  double rate = 100; // operations per second, when --rate is not given
  // VMs created and started on every target before the load, held until
  // the end; device, process, stats and fault operations pick one.
  uint32_t vms = 4;
  uint32_t create_window = 256; // creations in flight while the fleet comes up
  std::string backend = "sim";  // or "qemu" (real VMs)
  std::string boot_files;       // LinuxBootFiles folder; empty: a stub (sim) or the default
  std::string guest_command = "/bin/true";              // the process op's command line
  std::map<std::string, sim_latency_range> sim_latency; // by HCS call kind name
  std::vector<std::pair<fleet_op, double>> weights;     // positive weights only
  capacity_ramp ramp;
  std::vector<dispatcher_stall> stalls;
};

// Throws std::invalid_argument naming the field.
fleet_profile parse_fleet_profile(const std::string& text);

} // namespace uvm::bench
