// Deadlines of calls in flight, kept by the caller: one table and one
// timer instead of a timer per call. CAF 0.17 keeps the timeout of every
// request until it fires, answered or not (about 190 bytes for the call's
// whole timeout: 5 minutes of 400,000 calls a second is gigabytes), so
// the engine's asynchronous calls send without one and settle here.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

namespace uvm {

class deadline_table {
public:
  using clock = std::chrono::steady_clock;

  // A call that fails with `on_expire` once `due` passes unless settled
  // first; returns its id.
  uint64_t add(clock::time_point due, std::function<void()> on_expire);
  // The call's answer came: true when it is still pending (the caller
  // hands the answer on), false when its deadline already expired it.
  bool settle(uint64_t id);
  // Removes the calls due at `now` and returns what expires them.
  std::vector<std::function<void()>> expire(clock::time_point now);
  // When the earliest pending call is due.
  std::optional<clock::time_point> next_due();
  size_t size() const { return pending_.size(); }

private:
  using due_entry = std::pair<clock::time_point, uint64_t>;
  struct call {
    clock::time_point due;
    std::function<void()> on_expire;
  };
  // A settled call stays in the heap until it reaches the top, or until
  // settled ones outnumber the pending: then the heap is rebuilt from the
  // pending (amortized O(1) a call, memory bounded by the calls pending).
  void compact();

  std::unordered_map<uint64_t, call> pending_;
  std::priority_queue<due_entry, std::vector<due_entry>, std::greater<>> due_;
  uint64_t next_id_ = 0;
};

} // namespace uvm
