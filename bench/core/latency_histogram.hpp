// A log-linear latency histogram in the manner of HdrHistogram: values
// (nanoseconds) are counted in buckets whose width is at most 1/1024 of
// their lower bound, so every reported value is within 0.1% of a recorded
// one (3 significant digits) from 1 ns to about 73 minutes. Histograms of
// several threads, intervals or nodes merge by adding counts; the JSON form
// (sparse buckets) carries them between processes. Not thread-safe: one
// recorder per thread, or a lock around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::bench {

class latency_histogram {
public:
  // 2^11 linear sub-buckets; each power of two above them is split in 1024.
  static constexpr int sub_bucket_bits = 11;
  static constexpr uint64_t sub_bucket_count = uint64_t{1} << sub_bucket_bits;
  static constexpr uint64_t half_count = sub_bucket_count / 2;
  // Larger values are counted as this one (their exact maximum is kept).
  static constexpr uint64_t highest_trackable = (uint64_t{1} << 42) - 1;

  void record(uint64_t value_ns);
  void merge(const latency_histogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;
  // The value at or below which `percent` (0..100) of the recordings are:
  // the upper bound of its bucket, never above the maximum recorded.
  uint64_t percentile(double percent) const;

  // {"unit":"ns","sub_bucket_bits":11,"count","min","max","sum","buckets":[[index,count],...]}
  nlohmann::json to_json() const;
  // The inverse of to_json; throws std::invalid_argument naming what is wrong.
  static latency_histogram from_json(const nlohmann::json& j);

  // The bucket of a value, and the range of values a bucket holds.
  static size_t index_of(uint64_t value);
  static uint64_t lowest_at(size_t index);
  static uint64_t highest_at(size_t index);
  static size_t bucket_count() { return index_of(highest_trackable) + 1; }

private:
  std::vector<uint64_t> counts_; // grown to the highest index recorded
  uint64_t count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

} // namespace uvm::bench
