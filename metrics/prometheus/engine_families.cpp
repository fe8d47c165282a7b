#include "metrics/prometheus/engine_families.hpp"

#include <limits>
#include <string>

namespace uvm::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily one_value(const char* name, const char* help, MetricType type, double value) {
  ClientMetric m;
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return {name, help, type, {m}};
}

double seconds(uint64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

} // namespace

std::vector<MetricFamily> engine_families(const snapshot& s,
                                          const std::optional<mailbox_sample>& mailboxes) {
  std::vector<MetricFamily> out;

  MetricFamily vms{
      "uvm_vms", "Utility VMs by lifecycle state and HCS backend", MetricType::Gauge, {}};
  for (size_t b = 0; b < vm_backend_count; ++b) {
    for (size_t st = 0; st < vm_state_count; ++st) {
      ClientMetric m;
      m.label = {{"backend", to_string(static_cast<vm_backend>(b))},
                 {"state", to_string(static_cast<lifecycle_state>(st))}};
      m.gauge.value = static_cast<double>(s.vms[b][st]);
      vms.metric.push_back(std::move(m));
    }
  }
  out.push_back(std::move(vms));

  // Only the ops called at least once: 36 ops of 26 buckets each would
  // otherwise make most of every scrape zeros.
  MetricFamily calls{
      "uvm_calls_total", "Calls answered, by op and result", MetricType::Counter, {}};
  MetricFamily durations{"uvm_call_duration_seconds",
                         "Time from a call's arrival at the actor that serves it to its answer",
                         MetricType::Histogram,
                         {}};
  for (size_t op = 0; op < call_op_count; ++op) {
    const auto& by_result = s.calls[op];
    uint64_t total = 0;
    for (const auto& h : by_result) {
      total += h.count();
    }
    if (total == 0) {
      continue;
    }
    const char* op_name = to_string(static_cast<call_op>(op));
    ClientMetric hist;
    hist.label = {{"op", op_name}};
    uint64_t cumulative = 0;
    uint64_t sum_ns = 0;
    for (size_t b = 0; b < latency_bucket_count; ++b) {
      for (const auto& h : by_result) {
        cumulative += h.buckets[b];
      }
      double bound = b < latency_bounds_ns.size() ? seconds(latency_bounds_ns[b])
                                                  : std::numeric_limits<double>::infinity();
      hist.histogram.bucket.push_back({cumulative, bound});
    }
    for (size_t r = 0; r < call_result_count; ++r) {
      ClientMetric c;
      c.label = {{"op", op_name}, {"result", to_string(static_cast<call_result>(r))}};
      c.counter.value = static_cast<double>(by_result[r].count());
      calls.metric.push_back(std::move(c));
      sum_ns += by_result[r].sum_ns;
    }
    hist.histogram.sample_count = cumulative;
    hist.histogram.sample_sum = seconds(sum_ns);
    durations.metric.push_back(std::move(hist));
  }
  out.push_back(std::move(calls));
  out.push_back(std::move(durations));

  if (mailboxes) {
    out.push_back(one_value("uvm_vm_mailbox_depth_max",
                            "The deepest mailbox of one VM actor (messages waiting), sampled at "
                            "scrape",
                            MetricType::Gauge, static_cast<double>(mailboxes->max)));
    out.push_back(one_value("uvm_vm_mailbox_depth_sum",
                            "Messages waiting in all VM actors' mailboxes, sampled at scrape",
                            MetricType::Gauge, static_cast<double>(mailboxes->sum)));
  }
  out.push_back(one_value("uvm_vm_restarts_total",
                          "Systems re-created by the supervisor after an unexpected exit",
                          MetricType::Counter, static_cast<double>(s.restarts)));
  out.push_back(one_value("uvm_vm_unexpected_exits_total",
                          "Systems that exited without being asked to", MetricType::Counter,
                          static_cast<double>(s.unexpected_exits)));
  out.push_back(one_value("uvm_bridge_rpcs_in_flight", "GCS bridge RPCs sent and not yet answered",
                          MetricType::Gauge, static_cast<double>(s.bridge_rpcs_in_flight)));
  out.push_back(one_value("uvm_bridge_rpc_failures_total",
                          "GCS bridge RPCs that failed (guest error, timeout, bridge closed)",
                          MetricType::Counter, static_cast<double>(s.bridge_rpc_failures)));
  out.push_back(one_value("uvm_remote_clients", "Remote clients connected to this node",
                          MetricType::Gauge, static_cast<double>(s.remote_clients)));
  out.push_back(one_value("uvm_tls_refusals_total", "TLS handshakes this node refused",
                          MetricType::Counter, static_cast<double>(s.tls_refusals)));
  return out;
}

std::vector<MetricFamily> engine_collectable::Collect() const {
  std::optional<mailbox_sample> mailboxes;
  if (sample_) {
    mailboxes = sample_();
  }
  return engine_families(metrics_.read(), mailboxes);
}

} // namespace uvm::metrics
