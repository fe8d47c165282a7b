// Where a backend's delayed work runs: real threads with timers for the
// engine, or a manual queue with virtual time for deterministic tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace uvm::hcs {

class executor {
public:
  virtual ~executor() = default;
  // Runs `fn` once, no sooner than `delay` from now, never inline.
  virtual void post_after(std::chrono::microseconds delay, std::function<void()> fn) = 0;
};

// A Boost.Asio io_context served by `threads` threads; timers run
// concurrently, so N calls of latency L overlap rather than queue.
std::shared_ptr<executor> make_thread_executor(int threads);

// Runs nothing by itself: a test decides when time passes.
class manual_executor : public executor {
public:
  manual_executor();
  ~manual_executor() override;
  void post_after(std::chrono::microseconds delay, std::function<void()> fn) override;
  // Runs every task due at the current virtual time (including tasks those
  // tasks post with no delay). Returns how many ran.
  std::size_t run_ready();
  // Moves virtual time forward by `dt`, running tasks as they fall due.
  std::size_t advance(std::chrono::microseconds dt);
  // Runs everything queued, advancing time as far as needed.
  std::size_t run_all();
  std::size_t pending() const;
  std::chrono::microseconds now() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace uvm::hcs
