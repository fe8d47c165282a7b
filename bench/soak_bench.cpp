// uvm-bench soak: a long fleet run (bench/profiles/soak.json by default)
// sampled once a minute, then judged: after the warm-up the resident set
// must stay within ±5 % of its median, and threads and descriptors must
// not grow. The fleet run writes its usual report folder.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/benches.hpp"
#include "bench/core/process_stats.hpp"

namespace uvm::bench {

namespace {

struct sample {
  double t_s = 0;
  double rss_mb = 0;
  double heap_mb = 0; // in use (allocated, not freed)
  uint64_t threads = 0;
  uint64_t fds = 0;
};

std::vector<sample> read_samples(const std::string& raw_path) {
  std::vector<sample> out;
  std::ifstream in{raw_path};
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    const auto& p = j.at("process");
    constexpr double mb = 1024.0 * 1024.0;
    out.push_back({j.at("t_s").get<double>(),
                   static_cast<double>(p.at("rss_bytes").get<uint64_t>()) / mb,
                   static_cast<double>(p.value("heap_in_use_bytes", uint64_t{0})) / mb,
                   p.at("threads").get<uint64_t>(), p.at("fds").get<uint64_t>()});
  }
  return out;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

} // namespace

int soak(const soak_options& o) {
  fleet_options fo;
  fo.profile = o.profile;
  fo.seconds = o.minutes * 60;
  fo.out_dir = o.out_dir;
  fo.rate = o.rate;
  fo.interval_ms = static_cast<int>(o.sample_seconds * 1000);
  fo.seed = o.seed;
  fo.json = true;
  int fleet_rc = fleet(fo);
  auto samples = read_samples(o.out_dir + "/raw.jsonl");
  auto warm = static_cast<size_t>(std::ceil(o.warmup_minutes * 60 / o.sample_seconds));
  if (samples.size() < warm + 2) {
    std::cerr << "soak: " << samples.size() << " samples, too few after a warm-up of " << warm
              << "\n";
    return 2;
  }
  std::vector<double> rss;
  for (size_t i = warm; i < samples.size(); ++i) {
    rss.push_back(samples[i].rss_mb);
  }
  double mid = median(rss);
  double worst = 0;
  for (double r : rss) {
    worst = std::max(worst, std::abs(r - mid) / mid);
  }
  // The last sample against the first after warm-up: growth, not noise.
  const auto& first = samples[warm];
  const auto& last = samples.back();
  bool flat = worst <= 0.05;
  bool threads_steady = last.threads <= first.threads + 2;
  bool fds_steady = last.fds <= first.fds + 8;
  auto per_sample = nlohmann::json::array();
  for (const auto& s : samples) {
    per_sample.push_back({{"t_s", std::round(s.t_s * 10) / 10},
                          {"rss_mb", std::round(s.rss_mb * 10) / 10},
                          {"heap_mb", std::round(s.heap_mb * 10) / 10},
                          {"threads", s.threads},
                          {"fds", s.fds}});
  }
  nlohmann::json out = {{"out", o.out_dir},
                        {"allocator", allocator_name()},
                        {"minutes", o.minutes},
                        {"warmup_samples", warm},
                        {"samples", per_sample},
                        {"rss_median_mb", std::round(mid * 10) / 10},
                        {"rss_max_deviation", std::round(worst * 10000) / 10000},
                        {"rss_flat", flat},
                        // Not judged: whether RSS growth is memory in use
                        // (a leak) or freed memory the allocator keeps.
                        {"heap_growth_mb", std::round((last.heap_mb - first.heap_mb) * 100) / 100},
                        {"threads_steady", threads_steady},
                        {"fds_steady", fds_steady},
                        {"fleet_rc", fleet_rc}};
  std::cout << (o.json ? out.dump() : out.dump(2)) << std::endl;
  return flat && threads_steady && fds_steady && fleet_rc == 0 ? 0 : 1;
}

} // namespace uvm::bench
