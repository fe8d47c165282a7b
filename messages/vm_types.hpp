// Plain data that crosses the utility-VM actor's boundary. Each struct has an
// inspect() next to it so that CAF can serialize it for remote nodes; the
// inspectors need no CAF header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/options.hpp"

namespace uvm {

// created -> starting -> running -> stopping -> stopped; any live state ->
// exited when the system stops without being asked; closed after Close.
enum class lifecycle_state : uint8_t {
  created,
  starting,
  running,
  stopping,
  stopped,
  exited,
  closed
};

inline const char* to_string(lifecycle_state s) {
  switch (s) {
  case lifecycle_state::created:
    return "created";
  case lifecycle_state::starting:
    return "starting";
  case lifecycle_state::running:
    return "running";
  case lifecycle_state::stopping:
    return "stopping";
  case lifecycle_state::stopped:
    return "stopped";
  case lifecycle_state::exited:
    return "exited";
  case lifecycle_state::closed:
    return "closed";
  }
  return "unknown";
}

// What ID(), OS(), IsOCI(), ProcessorCount() and friends read.
struct vm_info {
  std::string id;
  std::string owner;
  std::string os; // "linux" or "windows"
  int32_t processor_count = 0;
  int32_t memory_size_in_mb = 0;
  bool is_oci = false;
  std::string runtime_id;
  lifecycle_state state = lifecycle_state::created;
  uint32_t restarts = 0;
  // Admission control (engine_config::vm_call_limit): calls accepted and
  // not yet answered, and calls refused as busy since the VM was created.
  uint64_t calls_outstanding = 0;
  uint64_t busy_refusals = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_info& x) {
  return f(x.id, x.owner, x.os, x.processor_count, x.memory_size_in_mb, x.is_oci, x.runtime_id,
           x.state, x.restarts, x.calls_outstanding, x.busy_refusals);
}

// A running VM's processors (hcsshim's UpdateCPULimits, and a count):
// 0 leaves a member as it is.
struct cpu_limits {
  uint32_t count = 0;       // processors; HCS cannot change it, QEMU can
  uint64_t limit = 0;       // 1-100000: hundredths of a percent of the host
  uint64_t weight = 0;      // 1-10000: relative to other VMs
  uint64_t reservation = 0; // as limit
  uint32_t maximum_frequency_mhz = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cpu_limits& x) {
  return f(x.count, x.limit, x.weight, x.reservation, x.maximum_frequency_mhz);
}

// stats.VirtualMachineStatistics (uvm-api.md §15).
struct vm_memory_stats {
  int32_t available_memory = 0;
  int32_t available_memory_buffer = 0;
  uint64_t reserved_memory = 0;
  uint64_t assigned_memory = 0;
  bool slp_active = false;
  bool balancing_enabled = false;
  bool dm_operation_in_progress = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_memory_stats& x) {
  return f(x.available_memory, x.available_memory_buffer, x.reserved_memory, x.assigned_memory,
           x.slp_active, x.balancing_enabled, x.dm_operation_in_progress);
}

struct vm_stats {
  uint64_t processor_total_runtime_ns = 0;
  uint64_t memory_working_set_bytes = 0;
  uint32_t memory_virtual_node_count = 0;
  bool has_vm_memory = false;
  vm_memory_stats vm_memory;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_stats& x) {
  return f(x.processor_total_runtime_ns, x.memory_working_set_bytes, x.memory_virtual_node_count,
           x.has_vm_memory, x.vm_memory);
}

enum class counter_kind : uint8_t { container, uvm_mount };

// What the supervisor does when a VM exits without being asked. `never` is
// hcsshim's behaviour; `on_failure` re-creates the VM from its options with
// exponential back-off, at most `max_restarts` times within `window_ms`.
enum class restart_kind : uint8_t { never, on_failure };

struct restart_policy {
  restart_kind kind = restart_kind::never;
  uint32_t max_restarts = 3;
  uint32_t window_ms = 60000;
  uint32_t backoff_initial_ms = 100;
  uint32_t backoff_max_ms = 5000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, restart_policy& x) {
  return f(x.kind, x.max_restarts, x.window_ms, x.backoff_initial_ms, x.backoff_max_ms);
}

// One exit as the supervisor recorded it.
struct exit_record {
  std::string vm_id;
  bool unexpected = false;
  std::string exit_error;
  std::string action; // "none", "restart", "gave-up"
  uint32_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, exit_record& x) {
  return f(x.vm_id, x.unexpected, x.exit_error, x.action, x.restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, options& x) {
  return f(x.id, x.owner, x.addition_hcs_document_json, x.memory_size_in_mb, x.low_mmio_gap_in_mb,
           x.high_mmio_base_in_mb, x.high_mmio_gap_in_mb, x.allow_overcommit,
           x.enable_deferred_commit, x.processor_count, x.processor_limit, x.processor_weight,
           x.storage_qos_iops_maximum, x.storage_qos_bandwidth_maximum, x.external_guest_connection,
           x.backend);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, options_lcow& x) {
  return f(x.common, x.boot_files_path, x.kernel_file, x.kernel_direct, x.root_fs_file,
           x.kernel_boot_options, x.enable_graphics_console, x.console_pipe,
           x.scsi_controller_count, x.use_guest_connection, x.exec_command_line, x.forward_stdout,
           x.forward_stderr, x.vpmem_device_count, x.vpmem_size_bytes, x.vpmem_no_multi_mapping,
           x.preferred_root_fs_type, x.enable_cold_discard_hint, x.vpci_enabled);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, options_wcow& x) {
  return f(x.common, x.layer_folders);
}

} // namespace uvm
