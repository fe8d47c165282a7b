#include "metrics/engine_metrics.hpp"

#include <algorithm>
#include <numeric>
#include <string>

namespace uvm::metrics {

const char* to_string(call_op op) {
  static constexpr std::array<const char*, call_op_count> names{"create",
                                                                "start",
                                                                "shutdown",
                                                                "terminate",
                                                                "close",
                                                                "add_scsi",
                                                                "remove_scsi",
                                                                "scsi_path",
                                                                "add_vpmem",
                                                                "remove_vpmem",
                                                                "add_vsmb",
                                                                "remove_vsmb",
                                                                "vsmb_path",
                                                                "add_plan9",
                                                                "remove_plan9",
                                                                "add_pipe",
                                                                "remove_pipe",
                                                                "add_netns",
                                                                "remove_netns",
                                                                "add_endpoints",
                                                                "remove_endpoints",
                                                                "assign_device",
                                                                "remove_device",
                                                                "combine_layers",
                                                                "remove_layers",
                                                                "exec_process",
                                                                "signal_process",
                                                                "resize_console",
                                                                "create_container",
                                                                "start_container",
                                                                "stop_container",
                                                                "dump_stacks",
                                                                "delete_container_state"};
  return names[static_cast<size_t>(op)];
}

const char* to_string(call_result r) {
  return r == call_result::ok ? "ok" : "error";
}

const char* to_string(vm_backend b) {
  return b == vm_backend::qemu ? "qemu" : "sim";
}

vm_backend backend_from_name(const std::string& name) {
  return name == "qemu" ? vm_backend::qemu : vm_backend::sim;
}

size_t latency_bucket(uint64_t ns) {
  return static_cast<size_t>(
      std::lower_bound(latency_bounds_ns.begin(), latency_bounds_ns.end(), ns) -
      latency_bounds_ns.begin());
}

uint64_t histogram_snapshot::count() const {
  return std::accumulate(buckets.begin(), buckets.end(), uint64_t{0});
}

size_t engine_metrics::my_shard() {
  static std::atomic<size_t> next{0};
  thread_local size_t mine = next.fetch_add(1, std::memory_order_relaxed) % shard_count;
  return mine;
}

snapshot engine_metrics::read() const {
  snapshot s;
  for (const auto& shard : calls_) {
    for (size_t op = 0; op < call_op_count; ++op) {
      for (size_t r = 0; r < call_result_count; ++r) {
        const auto& from = shard[op][r];
        auto& to = s.calls[op][r];
        for (size_t b = 0; b < latency_bucket_count; ++b) {
          to.buckets[b] += from.buckets[b].load(std::memory_order_relaxed);
        }
        to.sum_ns += from.sum_ns.load(std::memory_order_relaxed);
      }
    }
  }
  for (size_t b = 0; b < vm_backend_count; ++b) {
    for (size_t st = 0; st < vm_state_count; ++st) {
      s.vms[b][st] = vms_[b][st].load(std::memory_order_relaxed);
    }
  }
  s.restarts = restarts_.load(std::memory_order_relaxed);
  s.unexpected_exits = unexpected_exits_.load(std::memory_order_relaxed);
  s.bridge_rpcs_in_flight = bridge_in_flight_.load(std::memory_order_relaxed);
  s.bridge_rpc_failures = bridge_failures_.load(std::memory_order_relaxed);
  s.remote_clients = remote_clients_.load(std::memory_order_relaxed);
  s.tls_refusals = tls_refusals_.load(std::memory_order_relaxed);
  return s;
}

vm_state_slot::vm_state_slot(engine_metrics* m, vm_backend b, lifecycle_state s)
    : metrics_(m), backend_(b), state_(s) {
  if (metrics_ != nullptr) {
    metrics_->vm_enter(backend_, state_);
  }
}

vm_state_slot::vm_state_slot(vm_state_slot&& o) noexcept
    : metrics_(o.metrics_), backend_(o.backend_), state_(o.state_) {
  o.metrics_ = nullptr;
}

vm_state_slot& vm_state_slot::operator=(vm_state_slot&& o) noexcept {
  if (this != &o) {
    release();
    metrics_ = o.metrics_;
    backend_ = o.backend_;
    state_ = o.state_;
    o.metrics_ = nullptr;
  }
  return *this;
}

void vm_state_slot::move_to(lifecycle_state s) {
  if (metrics_ == nullptr || s == state_) {
    return;
  }
  metrics_->vm_leave(backend_, state_);
  metrics_->vm_enter(backend_, s);
  state_ = s;
}

void vm_state_slot::release() {
  if (metrics_ != nullptr) {
    metrics_->vm_leave(backend_, state_);
    metrics_ = nullptr;
  }
}

} // namespace uvm::metrics
