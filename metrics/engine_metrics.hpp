// The engine's metrics as plain atomics: what the actors count on their hot
// paths (one relaxed add or two per call, no lock, no allocation, no label
// lookup) and what an exporter reads when it is scraped (snapshot()).
// Calls are counted in fixed arrays indexed by call_op and call_result;
// latencies go to fixed buckets. No CAF, no exporter: uvmd turns a snapshot
// into Prometheus families (metrics/prometheus/).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "messages/vm_types.hpp"

namespace uvm::metrics {

// Every call the engine counts: the VM's lifecycle and the device calls.
enum class call_op : uint8_t {
  create,
  start,
  shutdown,
  terminate,
  close,
  add_scsi,
  remove_scsi,
  scsi_path,
  add_vpmem,
  remove_vpmem,
  add_vsmb,
  remove_vsmb,
  vsmb_path,
  add_plan9,
  remove_plan9,
  add_pipe,
  remove_pipe,
  add_netns,
  remove_netns,
  add_endpoints,
  remove_endpoints,
  assign_device,
  remove_device,
  combine_layers,
  remove_layers,
  // Guest calls through the GCS bridge.
  exec_process,
  signal_process,
  resize_console,
  create_container,
  start_container,
  stop_container,
  dump_stacks,
  delete_container_state,
};
constexpr size_t call_op_count = static_cast<size_t>(call_op::delete_container_state) + 1;
// The `op` label: "add_scsi", "create", ...
const char* to_string(call_op op);

enum class call_result : uint8_t { ok, error };
constexpr size_t call_result_count = 2;
const char* to_string(call_result r);

// The VM's HCS backend (the `backend` label).
enum class vm_backend : uint8_t { sim, qemu };
constexpr size_t vm_backend_count = 2;
const char* to_string(vm_backend b);
// "qemu" is qemu; anything else is the simulator.
vm_backend backend_from_name(const std::string& name);

constexpr size_t vm_state_count = static_cast<size_t>(lifecycle_state::closed) + 1;

// Upper bounds of the latency buckets in nanoseconds (1 µs .. 60 s); one
// more bucket above the last counts the rest (+Inf).
constexpr std::array<uint64_t, 24> latency_bounds_ns{
    1'000,         2'500,         5'000,         10'000,         25'000,         50'000,
    100'000,       250'000,       500'000,       1'000'000,      2'500'000,      5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,    250'000'000,    500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000, 30'000'000'000, 60'000'000'000};
constexpr size_t latency_bucket_count = latency_bounds_ns.size() + 1;

// The bucket of a latency: the first whose bound is not below it.
size_t latency_bucket(uint64_t ns);

// One histogram's counts per bucket (not cumulative) and the sum.
struct histogram_snapshot {
  std::array<uint64_t, latency_bucket_count> buckets{};
  uint64_t sum_ns = 0;
  uint64_t count() const;
};

// The mailbox depth of every VM actor at one moment (sampled at scrape).
struct mailbox_sample {
  uint64_t vms = 0;
  uint64_t max = 0;
  uint64_t sum = 0;
};

struct snapshot {
  // Per op and result: the calls' latencies (their count is the calls).
  std::array<std::array<histogram_snapshot, call_result_count>, call_op_count> calls{};
  std::array<std::array<int64_t, vm_state_count>, vm_backend_count> vms{};
  uint64_t restarts = 0;
  uint64_t unexpected_exits = 0;
  int64_t bridge_rpcs_in_flight = 0;
  uint64_t bridge_rpc_failures = 0;
  int64_t remote_clients = 0;
  uint64_t tls_refusals = 0;
};

class engine_metrics {
public:
  engine_metrics() = default;
  engine_metrics(const engine_metrics&) = delete;
  engine_metrics& operator=(const engine_metrics&) = delete;

  // One finished call and how long it took.
  void call(call_op op, call_result r, std::chrono::nanoseconds latency) {
    auto ns = latency.count() < 0 ? uint64_t{0} : static_cast<uint64_t>(latency.count());
    auto& h = calls_[my_shard()][static_cast<size_t>(op)][static_cast<size_t>(r)];
    h.buckets[latency_bucket(ns)].fetch_add(1, std::memory_order_relaxed);
    h.sum_ns.fetch_add(ns, std::memory_order_relaxed);
  }

  // A VM entered or left state `s` (vm_state_slot keeps them paired).
  void vm_enter(vm_backend b, lifecycle_state s) { vm_add(b, s, 1); }
  void vm_leave(vm_backend b, lifecycle_state s) { vm_add(b, s, -1); }

  void restarted() { restarts_.fetch_add(1, std::memory_order_relaxed); }
  void exited_unexpectedly() { unexpected_exits_.fetch_add(1, std::memory_order_relaxed); }

  void bridge_rpc_sent() { bridge_in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void bridge_rpc_ended() { bridge_in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void bridge_rpc_failed() { bridge_failures_.fetch_add(1, std::memory_order_relaxed); }

  void remote_client_connected() { remote_clients_.fetch_add(1, std::memory_order_relaxed); }
  void remote_client_gone() { remote_clients_.fetch_sub(1, std::memory_order_relaxed); }
  void tls_refused() { tls_refusals_.fetch_add(1, std::memory_order_relaxed); }

  // Every value at once (each read relaxed: a scrape may see a call counted
  // in one histogram and not yet in its sum).
  snapshot read() const;

private:
  void vm_add(vm_backend b, lifecycle_state s, int64_t d) {
    vms_[static_cast<size_t>(b)][static_cast<size_t>(s)].fetch_add(d, std::memory_order_relaxed);
  }

  // The calls' histograms in one table per shard, a thread counting in
  // its own (threads take shards in turn): two scheduler threads serving
  // the same op do not bounce one cache line between them, which cost 5%
  // of the hotplug bench when they shared one table. A scrape sums them.
  static constexpr size_t shard_count = 4;
  static size_t my_shard();

  struct alignas(64) histogram {
    std::array<std::atomic<uint64_t>, latency_bucket_count> buckets{};
    std::atomic<uint64_t> sum_ns{0};
  };
  using call_table = std::array<std::array<histogram, call_result_count>, call_op_count>;
  std::array<call_table, shard_count> calls_{};
  alignas(64) std::array<std::array<std::atomic<int64_t>, vm_state_count>, vm_backend_count> vms_{};
  std::atomic<uint64_t> restarts_{0};
  std::atomic<uint64_t> unexpected_exits_{0};
  alignas(64) std::atomic<int64_t> bridge_in_flight_{0};
  std::atomic<uint64_t> bridge_failures_{0};
  std::atomic<int64_t> remote_clients_{0};
  std::atomic<uint64_t> tls_refusals_{0};
};

// Times one call: started when made, counted once by finish() (or by
// nothing when there are no metrics). Cheap to copy: a pointer, an op and
// a time.
class call_timer {
public:
  call_timer() = default;
  call_timer(engine_metrics* m, call_op op)
      : metrics_(m), op_(op), start_(m != nullptr ? std::chrono::steady_clock::now()
                                                  : std::chrono::steady_clock::time_point{}) {}

  void finish(bool ok) const {
    if (metrics_ != nullptr) {
      metrics_->call(op_, ok ? call_result::ok : call_result::error,
                     std::chrono::steady_clock::now() - start_);
    }
  }

private:
  engine_metrics* metrics_ = nullptr;
  call_op op_ = call_op::create;
  std::chrono::steady_clock::time_point start_;
};

// Where one VM is counted in the VMs-by-state gauges: it moves with the VM's
// state, and leaves the gauges when destroyed. Move-only.
class vm_state_slot {
public:
  vm_state_slot() = default;
  vm_state_slot(engine_metrics* m, vm_backend b, lifecycle_state s);
  vm_state_slot(vm_state_slot&& o) noexcept;
  vm_state_slot& operator=(vm_state_slot&& o) noexcept;
  vm_state_slot(const vm_state_slot&) = delete;
  vm_state_slot& operator=(const vm_state_slot&) = delete;
  ~vm_state_slot() { release(); }

  void move_to(lifecycle_state s);

private:
  void release();
  engine_metrics* metrics_ = nullptr;
  vm_backend backend_ = vm_backend::sim;
  lifecycle_state state_ = lifecycle_state::created;
};

// One bridge RPC in the in-flight gauge while it lives (however its call
// ends, even with its actor). Move-only.
class in_flight_rpc {
public:
  in_flight_rpc() = default;
  explicit in_flight_rpc(engine_metrics* m) : metrics_(m) {
    if (metrics_ != nullptr) {
      metrics_->bridge_rpc_sent();
    }
  }
  in_flight_rpc(in_flight_rpc&& o) noexcept : metrics_(o.metrics_) { o.metrics_ = nullptr; }
  in_flight_rpc& operator=(in_flight_rpc&& o) noexcept {
    if (this != &o) {
      end();
      metrics_ = o.metrics_;
      o.metrics_ = nullptr;
    }
    return *this;
  }
  in_flight_rpc(const in_flight_rpc&) = delete;
  in_flight_rpc& operator=(const in_flight_rpc&) = delete;
  ~in_flight_rpc() { end(); }

private:
  void end() {
    if (metrics_ != nullptr) {
      metrics_->bridge_rpc_ended();
      metrics_ = nullptr;
    }
  }
  engine_metrics* metrics_ = nullptr;
};

} // namespace uvm::metrics
