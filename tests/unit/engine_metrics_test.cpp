#include <sstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <prometheus/text_serializer.h>

#include "metrics/engine_metrics.hpp"
#include "metrics/prometheus/engine_families.hpp"

using namespace uvm;
using namespace uvm::metrics;
using namespace std::chrono_literals;

namespace {

std::string render(const snapshot& s, std::optional<mailbox_sample> mb = std::nullopt) {
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, engine_families(s, mb));
  return out.str();
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in{text};
  for (std::string l; std::getline(in, l);) {
    if (l == line) {
      return true;
    }
  }
  return false;
}

} // namespace

TEST_CASE("a latency falls in the first bucket whose bound is not below it") {
  CHECK(latency_bucket(0) == 0);
  CHECK(latency_bucket(1'000) == 0);
  CHECK(latency_bucket(1'001) == 1);
  CHECK(latency_bucket(2'500) == 1);
  CHECK(latency_bucket(999'999) == 9); // <= 1 ms
  CHECK(latency_bucket(1'000'000) == 9);
  CHECK(latency_bucket(60'000'000'000) == latency_bounds_ns.size() - 1);
  CHECK(latency_bucket(60'000'000'001) == latency_bounds_ns.size()); // +Inf
}

TEST_CASE("calls are counted by op and result with their latencies") {
  engine_metrics m;
  m.call(call_op::add_scsi, call_result::ok, 3us);
  m.call(call_op::add_scsi, call_result::ok, 2ms);
  m.call(call_op::add_scsi, call_result::error, 40us);
  m.call(call_op::close, call_result::ok, -5ns); // a clock that went back counts as 0
  auto s = m.read();
  const auto& ok = s.calls[static_cast<size_t>(call_op::add_scsi)][0];
  const auto& err = s.calls[static_cast<size_t>(call_op::add_scsi)][1];
  CHECK(ok.count() == 2);
  CHECK(err.count() == 1);
  CHECK(ok.sum_ns == 2'003'000);
  CHECK(ok.buckets[latency_bucket(3'000)] == 1);
  CHECK(ok.buckets[latency_bucket(2'000'000)] == 1);
  CHECK(err.buckets[latency_bucket(40'000)] == 1);
  CHECK(s.calls[static_cast<size_t>(call_op::close)][0].buckets[0] == 1);
  CHECK(s.calls[static_cast<size_t>(call_op::start)][0].count() == 0);
}

TEST_CASE("counts from several threads are all kept") {
  engine_metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.call(call_op::remove_scsi, call_result::ok, 1us);
        m.bridge_rpc_sent();
        m.bridge_rpc_ended();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  auto s = m.read();
  CHECK(s.calls[static_cast<size_t>(call_op::remove_scsi)][0].count() == 40000);
  CHECK(s.calls[static_cast<size_t>(call_op::remove_scsi)][0].sum_ns == 40000 * 1000);
  CHECK(s.bridge_rpcs_in_flight == 0);
}

TEST_CASE("a VM's state slot moves it between the state gauges and leaves them when destroyed") {
  engine_metrics m;
  auto vms = [&m](vm_backend b, lifecycle_state st) {
    return m.read().vms[static_cast<size_t>(b)][static_cast<size_t>(st)];
  };
  {
    vm_state_slot a{&m, vm_backend::sim, lifecycle_state::created};
    vm_state_slot b{&m, vm_backend::qemu, lifecycle_state::created};
    CHECK(vms(vm_backend::sim, lifecycle_state::created) == 1);
    CHECK(vms(vm_backend::qemu, lifecycle_state::created) == 1);
    a.move_to(lifecycle_state::running);
    a.move_to(lifecycle_state::running);
    CHECK(vms(vm_backend::sim, lifecycle_state::created) == 0);
    CHECK(vms(vm_backend::sim, lifecycle_state::running) == 1);
    vm_state_slot moved = std::move(a); // counted once, not twice
    CHECK(vms(vm_backend::sim, lifecycle_state::running) == 1);
    b = std::move(moved); // b's old place is given up
    CHECK(vms(vm_backend::qemu, lifecycle_state::created) == 0);
    CHECK(vms(vm_backend::sim, lifecycle_state::running) == 1);
  }
  CHECK(vms(vm_backend::sim, lifecycle_state::running) == 0);
  vm_state_slot untracked{nullptr, vm_backend::sim, lifecycle_state::created};
  untracked.move_to(lifecycle_state::running);
  CHECK(vms(vm_backend::sim, lifecycle_state::running) == 0);
}

TEST_CASE("a call timer without metrics counts nothing; with them, once per finish") {
  call_timer none{nullptr, call_op::start};
  none.finish(true);
  engine_metrics m;
  call_timer t{&m, call_op::start};
  t.finish(false);
  auto s = m.read();
  CHECK(s.calls[static_cast<size_t>(call_op::start)][1].count() == 1);
  CHECK(s.calls[static_cast<size_t>(call_op::start)][0].count() == 0);
}

TEST_CASE("the text exposition names every metric with its labels") {
  engine_metrics m;
  vm_state_slot vm{&m, vm_backend::sim, lifecycle_state::running};
  m.call(call_op::add_scsi, call_result::ok, 3us);
  m.call(call_op::add_scsi, call_result::error, 2ms);
  m.restarted();
  m.exited_unexpectedly();
  m.exited_unexpectedly();
  m.bridge_rpc_sent();
  m.bridge_rpc_failed();
  m.remote_client_connected();
  m.tls_refused();
  auto text = render(m.read(), mailbox_sample{3, 7, 9});
  CHECK(has_line(text, "# TYPE uvm_vms gauge"));
  CHECK(has_line(text, R"(uvm_vms{backend="sim",state="running"} 1)"));
  CHECK(has_line(text, R"(uvm_vms{backend="qemu",state="running"} 0)"));
  CHECK(has_line(text, "# TYPE uvm_calls_total counter"));
  CHECK(has_line(text, R"(uvm_calls_total{op="add_scsi",result="ok"} 1)"));
  CHECK(has_line(text, R"(uvm_calls_total{op="add_scsi",result="error"} 1)"));
  // Ops never called are left out.
  CHECK(text.find(R"(op="remove_scsi")") == std::string::npos);
  CHECK(has_line(text, "# TYPE uvm_call_duration_seconds histogram"));
  CHECK(has_line(text, R"(uvm_call_duration_seconds_count{op="add_scsi"} 2)"));
  CHECK(has_line(text, R"(uvm_call_duration_seconds_sum{op="add_scsi"} 0.002003)"));
  CHECK(has_line(text, R"(uvm_call_duration_seconds_bucket{op="add_scsi",le="1e-06"} 0)"));
  CHECK(has_line(text, R"(uvm_call_duration_seconds_bucket{op="add_scsi",le="0.0025"} 2)"));
  CHECK(has_line(text, R"(uvm_call_duration_seconds_bucket{op="add_scsi",le="+Inf"} 2)"));
  CHECK(has_line(text, "uvm_vm_mailbox_depth_max 7"));
  CHECK(has_line(text, "uvm_vm_mailbox_depth_sum 9"));
  CHECK(has_line(text, "uvm_vm_restarts_total 1"));
  CHECK(has_line(text, "uvm_vm_unexpected_exits_total 2"));
  CHECK(has_line(text, "uvm_bridge_rpcs_in_flight 1"));
  CHECK(has_line(text, "uvm_bridge_rpc_failures_total 1"));
  CHECK(has_line(text, "uvm_remote_clients 1"));
  CHECK(has_line(text, "uvm_tls_refusals_total 1"));
  // Without a mailbox sample (it timed out) its gauges are left out.
  CHECK(render(m.read()).find("uvm_vm_mailbox_depth") == std::string::npos);
}
