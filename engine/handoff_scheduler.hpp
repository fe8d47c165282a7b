// The engine's CAF scheduler ("handoff"): N workers share one FIFO run
// queue, and an actor woken by the actor a worker is running goes to that
// worker's handoff slot and runs next on the same core, so that a request
// and its reply do not bounce between cores (a call to a device child is a
// chain of such wake-ups). A worker runs at most `handoff_limit` slot jobs
// in a row while others wait in the shared queue; then the slot's job joins
// the queue, so a pair of actors that keep waking each other cannot starve
// the rest.
//
// An idle worker spins briefly on the queue, then naps (`nap_rounds` naps
// of `nap`, checking after each), then sleeps until a job is pushed: under
// load, whoever pushes (a timer, an I/O thread) finds workers polling and
// needs no system call to wake one. A polling worker also takes a job that
// it found twice in a row in a busy worker's slot, and a sleeping worker
// wakes every `idle_poll` to look for one: a handler that blocks after
// waking an actor delays that actor by about a nap while other workers
// poll, by at most `idle_poll` once they sleep.
//
// Unlike CAF's own workers it sets no per-job logging context: the logging
// id costs a cross-cast over the actor's class hierarchy on every job, and
// the engine's CAF build logs nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

namespace uvm {

class handoff_scheduler : public caf::scheduler::abstract_coordinator {
public:
  static constexpr size_t handoff_limit = 32;
  static constexpr size_t nap_rounds = 500;

  handoff_scheduler(caf::actor_system& sys, std::chrono::microseconds nap,
                    std::chrono::microseconds idle_poll);
  ~handoff_scheduler() override;

  // A job from outside the workers (another thread, a timer, the I/O loop).
  void enqueue(caf::resumable* job) override;
  caf::actor_clock& clock() noexcept override { return clock_; }

  // Installs it as `cfg`'s scheduler.
  static void install(caf::actor_system_config& cfg, std::chrono::microseconds nap,
                      std::chrono::microseconds idle_poll);

protected:
  void start() override;
  void stop() override;

private:
  class worker;
  friend class worker;

  void push(caf::resumable* job);
  // The next job for `w`, waiting for one; the shutdown job ends it.
  caf::resumable* pop(worker& w);
  // A job found while spinning or napping (none: time to sleep).
  caf::resumable* poll(worker& w);
  // The queue's front job, or none; try_pop() takes the lock for it.
  caf::resumable* pop_front_locked();
  caf::resumable* try_pop();
  caf::resumable* steal_handoff(const worker& thief);
  caf::resumable* steal_stuck(worker& thief);

  std::chrono::microseconds nap_;
  std::chrono::microseconds idle_poll_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<caf::resumable*> queue_; // guarded by mutex_
  std::atomic<size_t> queued_{0};     // queue_.size(), read without the lock
  std::atomic<size_t> polling_{0};
  size_t sleeping_ = 0; // guarded by mutex_
  std::vector<std::unique_ptr<worker>> workers_;
  caf::detail::thread_safe_actor_clock clock_;
  std::thread timer_;
};

} // namespace uvm
