// The fleet harness's latency histogram (bench/core): exact below 2048 ns,
// within 0.1% above, percentiles of known distributions, merging equal to
// recording everything in one, and the JSON form round trip and checks.
#include <catch2/catch.hpp>

#include <random>

#include "bench/core/arrival_schedule.hpp"
#include "bench/core/fleet_profile.hpp"
#include "bench/core/latency_histogram.hpp"
#include "bench/core/run_compare.hpp"

using uvm::bench::latency_histogram;

TEST_CASE("histogram buckets hold every value within 0.1%", "[histogram]") {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = rng() >> (22 + rng() % 42); // spread over every magnitude up to 2^42
    auto idx = latency_histogram::index_of(v);
    auto lo = latency_histogram::lowest_at(idx);
    auto hi = latency_histogram::highest_at(idx);
    REQUIRE(lo <= v);
    REQUIRE(v <= hi);
    REQUIRE(static_cast<double>(hi - lo) <= static_cast<double>(lo) / 1000.0);
  }
  // Adjacent buckets leave no gap.
  for (size_t i = 0; i + 1 < latency_histogram::bucket_count(); ++i) {
    REQUIRE(latency_histogram::highest_at(i) + 1 == latency_histogram::lowest_at(i + 1));
  }
  CHECK(latency_histogram::index_of(2047) == 2047);
  CHECK(latency_histogram::lowest_at(latency_histogram::index_of(2048)) == 2048);
}

TEST_CASE("histogram percentiles of a uniform distribution", "[histogram]") {
  latency_histogram h;
  // 1..100000 µs, each once, in ns.
  for (uint64_t us = 1; us <= 100000; ++us) {
    h.record(us * 1000);
  }
  CHECK(h.count() == 100000);
  CHECK(h.min() == 1000);
  CHECK(h.max() == 100000000);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto expected = p / 100.0 * 100000 * 1000;
    auto got = static_cast<double>(h.percentile(p));
    CHECK(got >= expected);
    CHECK(got <= expected * 1.001 + 1000);
  }
  CHECK(h.percentile(100) == 100000000);
  CHECK(h.mean() == Approx(50000.5 * 1000));
}

TEST_CASE("histogram percentiles of an exponential distribution match the sorted sample",
          "[histogram]") {
  std::mt19937_64 rng{11};
  std::exponential_distribution<double> exp_ms{1.0}; // mean 1 ms
  std::vector<uint64_t> values;
  latency_histogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<uint64_t>(exp_ms(rng) * 1e6) + 1;
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size())) - 1;
    auto exact = static_cast<double>(values[rank]);
    auto got = static_cast<double>(h.percentile(p));
    CHECK(got >= exact);
    CHECK(got <= exact * 1.001);
  }
}

TEST_CASE("histograms merged equal one histogram of every recording", "[histogram]") {
  std::mt19937_64 rng{3};
  latency_histogram all;
  std::vector<latency_histogram> parts(4);
  for (int i = 0; i < 50000; ++i) {
    uint64_t v = rng() % 50000000 + (i % 4 == 0 ? 100000000 : 0);
    all.record(v);
    parts[static_cast<size_t>(i) % 4].record(v);
  }
  latency_histogram merged;
  for (const auto& p : parts) {
    // Through JSON, as histograms of other threads and nodes arrive.
    merged.merge(latency_histogram::from_json(nlohmann::json::parse(p.to_json().dump())));
  }
  CHECK(merged.to_json() == all.to_json());
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    CHECK(merged.percentile(p) == all.percentile(p));
  }
}

TEST_CASE("histogram JSON refuses what it cannot be", "[histogram]") {
  latency_histogram h;
  h.record(5);
  h.record(5000);
  auto j = h.to_json();
  CHECK(latency_histogram::from_json(j).to_json() == j);
  auto bad = j;
  bad["count"] = 3;
  CHECK_THROWS_WITH(latency_histogram::from_json(bad), Catch::Contains("add up to 2"));
  bad = j;
  bad["sub_bucket_bits"] = 7;
  CHECK_THROWS_WITH(latency_histogram::from_json(bad), Catch::Contains("sub_bucket_bits"));
  bad = j;
  bad["buckets"].push_back({999999, 1});
  bad["count"] = 3;
  CHECK_THROWS_WITH(latency_histogram::from_json(bad), Catch::Contains("out of range"));
  bad = j;
  bad["max"] = 9000000;
  CHECK_THROWS_WITH(latency_histogram::from_json(bad), Catch::Contains("min and max"));
  CHECK_THROWS(latency_histogram::from_json(nlohmann::json::array()));
}

TEST_CASE("values beyond the range count at the top and keep their maximum", "[histogram]") {
  latency_histogram h;
  h.record(latency_histogram::highest_trackable * 4);
  CHECK(h.count() == 1);
  CHECK(h.max() == latency_histogram::highest_trackable * 4);
  CHECK(h.percentile(50) == latency_histogram::highest_trackable * 4);
  CHECK(latency_histogram::from_json(h.to_json()).max() == h.max());
}

TEST_CASE("arrival schedules: constant gaps, Poisson mean rate", "[fleet]") {
  using namespace uvm::bench;
  arrival_schedule c{arrival_kind::constant, 1000, 1};
  CHECK(c.next().count() == 0);
  CHECK(c.next().count() == 1000000);
  CHECK(c.next().count() == 2000000);
  arrival_schedule p{arrival_kind::poisson, 1000, 1};
  std::chrono::nanoseconds last{0};
  for (int i = 0; i < 100000; ++i) {
    auto t = p.next();
    REQUIRE(t >= last);
    last = t;
  }
  // 100000 arrivals at 1000/s: about 100 s (sd 0.3 s).
  CHECK(std::chrono::duration<double>(last).count() == Approx(100).epsilon(0.02));
  CHECK_THROWS(arrival_schedule{arrival_kind::constant, 0, 1});
  CHECK_THROWS_WITH(parse_arrival_kind("burst"), Catch::Contains("constant"));
}

TEST_CASE("fleet profiles are parsed strictly", "[fleet]") {
  using namespace uvm::bench;
  auto p = parse_fleet_profile(R"({"name":"x","rate":50,"vms":3,"ops":{"scsi":2,"stats":0,
    "crash":1},"sim_latency_us":{"modify":[10,20]},"stalls":[{"at_s":1,"ms":50}]})");
  CHECK(p.rate == 50);
  CHECK(p.vms == 3);
  REQUIRE(p.weights.size() == 2); // zero weights are dropped
  CHECK(p.weights[0].first == fleet_op::crash);
  CHECK(p.sim_latency["modify"].max_us == 20);
  CHECK(p.stalls.at(0).ms == 50);
  CHECK_THROWS_WITH(parse_fleet_profile(R"({"name":"x","ops":{"teleport":1}})"),
                    Catch::Contains("unknown operation \"teleport\""));
  CHECK_THROWS_WITH(parse_fleet_profile(R"({"name":"x","ops":{"scsi":1},"colour":1})"),
                    Catch::Contains("unknown field colour"));
  CHECK_THROWS_WITH(parse_fleet_profile(R"({"name":"x","ops":{"scsi":0}})"),
                    Catch::Contains("at least one positive weight"));
  CHECK_THROWS_WITH(
      parse_fleet_profile(R"({"name":"x","ops":{"scsi":1},"sim_latency_us":{"modify":[5,1]}})"),
      Catch::Contains("min above max"));
  CHECK_THROWS_WITH(parse_fleet_profile("[1]"), Catch::Contains("not a JSON object"));
}

namespace {

// A run of `intervals` one-second intervals of `op` with per-interval p99s.
uvm::bench::run_data synthetic_run(const std::vector<double>& p99s, double p50, uint64_t count,
                                   uint64_t errors) {
  uvm::bench::run_data r;
  for (double p99 : p99s) {
    r.lines.push_back(
        {{"interval_s", 1.0},
         {"ops", {{"scsi", {{"count", count / p99s.size()}, {"p50_ms", p50}, {"p99_ms", p99}}}}}});
  }
  double sum = 0;
  for (double x : p99s) {
    sum += x;
  }
  r.summary = {{"run_seconds", static_cast<double>(p99s.size())},
               {"ops",
                {{"scsi",
                  {{"count", count},
                   {"errors", errors},
                   {"p50_ms", p50},
                   {"p99_ms", sum / static_cast<double>(p99s.size())}}}}}};
  return r;
}

const uvm::bench::compared_metric& metric(const std::vector<uvm::bench::compared_metric>& v,
                                          const std::string& name) {
  for (const auto& m : v) {
    if (m.metric == name) {
      return m;
    }
  }
  throw std::runtime_error("no " + name);
}

} // namespace

TEST_CASE("compare flags changes beyond the noise only", "[fleet]") {
  using namespace uvm::bench;
  auto a = synthetic_run({1.0, 1.1, 0.9, 1.0}, 0.5, 4000, 0);
  // Within 10% and within the interval spread: not flagged.
  auto same = compare_run_data(a, synthetic_run({1.05, 1.0, 1.1, 0.95}, 0.52, 3990, 0), 0.1);
  CHECK_FALSE(metric(same, "p99_ms").regression);
  CHECK_FALSE(metric(same, "p50_ms").regression);
  CHECK_FALSE(metric(same, "rate").regression);
  // p99 doubled with a quiet spread, errors appeared, throughput halved.
  auto worse = compare_run_data(a, synthetic_run({2.0, 2.1, 1.9, 2.0}, 0.5, 2000, 100), 0.1);
  CHECK(metric(worse, "p99_ms").regression);
  CHECK(metric(worse, "error_share").regression);
  CHECK(metric(worse, "rate").regression);
  CHECK_FALSE(metric(worse, "p50_ms").regression);
  // The same doubling inside a very noisy run is not beyond noise.
  auto noisy_a = synthetic_run({1.0, 5.0, 0.5, 4.0}, 0.5, 4000, 0);
  auto noisy_b = compare_run_data(noisy_a, synthetic_run({2.0, 9.0, 1.0, 8.0}, 0.5, 4000, 0), 0.1);
  CHECK_FALSE(metric(noisy_b, "p99_ms").regression);
  // Faster is an improvement, never a regression.
  auto better = compare_run_data(a, synthetic_run({0.5, 0.5, 0.5, 0.5}, 0.5, 4000, 0), 0.1);
  CHECK(metric(better, "p99_ms").improvement);
  CHECK_FALSE(metric(better, "p99_ms").regression);
}
