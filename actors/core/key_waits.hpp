// Callers that wait on an operation in flight for one key (a host path, a
// share name): those that join it hear its outcome; those parked on it ask
// again once it is over. Used by the device actors around their tables.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "messages/errors.hpp"

namespace uvm {

class key_waits {
public:
  using done_fn = std::function<void(const error&)>;

  void join(const std::string& key, done_fn done) { joined_[key].push_back(std::move(done)); }
  void park(const std::string& key, std::function<void()> retry) {
    parked_[key].push_back(std::move(retry));
  }

  // The operation on `key` is over: everyone who joined hears `e`.
  void settle(const std::string& key, const error& e) {
    auto node = joined_.extract(key);
    if (!node.empty()) {
      for (auto& done : node.mapped()) {
        done(e);
      }
    }
  }
  // Runs what was parked on `key` (each may park again).
  void retry(const std::string& key) {
    auto node = parked_.extract(key);
    if (!node.empty()) {
      for (auto& again : node.mapped()) {
        again();
      }
    }
  }

  void clear() {
    joined_.clear();
    parked_.clear();
  }

private:
  std::map<std::string, std::vector<done_fn>> joined_;
  std::map<std::string, std::vector<std::function<void()>>> parked_;
};

} // namespace uvm
