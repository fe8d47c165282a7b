#include "bench/core/latency_histogram.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace uvm::bench {

namespace {

bool is_count(const nlohmann::json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

int highest_bit(uint64_t v) {
  return 63 - __builtin_clzll(v);
}

} // namespace

size_t latency_histogram::index_of(uint64_t value) {
  value = std::min(value, highest_trackable);
  if (value < sub_bucket_count) {
    return static_cast<size_t>(value);
  }
  // value >> shift lies in [half_count, sub_bucket_count).
  int shift = highest_bit(value) - (sub_bucket_bits - 1);
  auto sub = (value >> shift) - half_count;
  return static_cast<size_t>(sub_bucket_count + static_cast<uint64_t>(shift - 1) * half_count +
                             sub);
}

uint64_t latency_histogram::lowest_at(size_t index) {
  if (index < sub_bucket_count) {
    return index;
  }
  auto above = static_cast<uint64_t>(index) - sub_bucket_count;
  auto shift = above / half_count + 1;
  auto sub = above % half_count + half_count;
  return sub << shift;
}

uint64_t latency_histogram::highest_at(size_t index) {
  if (index < sub_bucket_count) {
    return index;
  }
  auto shift = (static_cast<uint64_t>(index) - sub_bucket_count) / half_count + 1;
  return lowest_at(index) + (uint64_t{1} << shift) - 1;
}

void latency_histogram::record(uint64_t value_ns) {
  auto i = index_of(value_ns);
  if (i >= counts_.size()) {
    counts_.resize(i + 1, 0);
  }
  ++counts_[i];
  if (count_ == 0 || value_ns < min_) {
    min_ = value_ns;
  }
  max_ = std::max(max_, value_ns);
  ++count_;
  sum_ += value_ns;
}

void latency_histogram::merge(const latency_histogram& other) {
  if (other.count_ == 0) {
    return;
  }
  if (other.counts_.size() > counts_.size()) {
    counts_.resize(other.counts_.size(), 0);
  }
  for (size_t i = 0; i < other.counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void latency_histogram::clear() {
  *this = latency_histogram{};
}

double latency_histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t latency_histogram::percentile(double percent) const {
  if (count_ == 0) {
    return 0;
  }
  percent = std::clamp(percent, 0.0, 100.0);
  auto rank = static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::max(min_, std::min(highest_at(i), max_));
    }
  }
  return max_;
}

nlohmann::json latency_histogram::to_json() const {
  auto buckets = nlohmann::json::array();
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) {
      buckets.push_back({i, counts_[i]});
    }
  }
  return {{"unit", "ns"},      {"sub_bucket_bits", sub_bucket_bits},
          {"count", count_},   {"min", min()},
          {"max", max_},       {"sum", sum_},
          {"buckets", buckets}};
}

latency_histogram latency_histogram::from_json(const nlohmann::json& j) {
  auto bad = [](const std::string& why) { return std::invalid_argument("histogram: " + why); };
  if (!j.is_object()) {
    throw bad("not a JSON object");
  }
  for (const char* key : {"unit", "sub_bucket_bits", "count", "min", "max", "sum", "buckets"}) {
    if (!j.contains(key)) {
      throw bad(std::string{"missing field "} + key);
    }
  }
  if (j["unit"] != "ns") {
    throw bad("unit must be \"ns\"");
  }
  if (j["sub_bucket_bits"] != sub_bucket_bits) {
    throw bad("sub_bucket_bits must be " + std::to_string(sub_bucket_bits));
  }
  for (const char* key : {"count", "min", "max", "sum"}) {
    if (!is_count(j[key])) {
      throw bad(std::string{key} + " must be an unsigned integer");
    }
  }
  if (!j["buckets"].is_array()) {
    throw bad("buckets must be an array");
  }
  latency_histogram h;
  uint64_t total = 0;
  const auto limit = bucket_count();
  for (const auto& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2 || !is_count(b[0]) || !is_count(b[1])) {
      throw bad("each bucket must be [index, count]");
    }
    auto i = b[0].get<uint64_t>();
    if (i >= limit) {
      throw bad("bucket index " + std::to_string(i) + " out of range");
    }
    if (i >= h.counts_.size()) {
      h.counts_.resize(static_cast<size_t>(i) + 1, 0);
    }
    auto c = b[1].get<uint64_t>();
    h.counts_[static_cast<size_t>(i)] += c;
    total += c;
  }
  h.count_ = j["count"].get<uint64_t>();
  h.min_ = j["min"].get<uint64_t>();
  h.max_ = j["max"].get<uint64_t>();
  h.sum_ = j["sum"].get<uint64_t>();
  if (total != h.count_) {
    throw bad("bucket counts add up to " + std::to_string(total) + ", count says " +
              std::to_string(h.count_));
  }
  auto holds = [&h](uint64_t v) {
    auto i = index_of(v);
    return i < h.counts_.size() && h.counts_[i] != 0;
  };
  if (h.count_ > 0 && (h.min_ > h.max_ || !holds(h.min_) || !holds(h.max_))) {
    throw bad("min and max do not match the buckets");
  }
  return h;
}

} // namespace uvm::bench
