// The engine's metrics as Prometheus families (prometheus-cpp), built from
// one snapshot when a scrape asks: the hot path never sees Prometheus.
// Metric names, types and labels are listed in README.md ("Metrics").
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "metrics/engine_metrics.hpp"

namespace uvm::metrics {

// Every family for `s`; the mailbox gauges only when a sample was taken.
std::vector<prometheus::MetricFamily>
engine_families(const snapshot& s, const std::optional<mailbox_sample>& mailboxes);

// What an Exposer registers: each Collect() reads the metrics and samples
// the mailboxes (which may fail: then those gauges are left out).
class engine_collectable : public prometheus::Collectable {
public:
  engine_collectable(const engine_metrics& m,
                     std::function<std::optional<mailbox_sample>()> sample_mailboxes)
      : metrics_(m), sample_(std::move(sample_mailboxes)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  const engine_metrics& metrics_;
  std::function<std::optional<mailbox_sample>()> sample_;
};

} // namespace uvm::metrics
