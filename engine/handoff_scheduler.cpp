#include "engine/handoff_scheduler.hpp"

#include <pthread.h>
#include <sys/prctl.h>

#include <algorithm>

#include <caf/actor_system_config.hpp>
#include <caf/logger.hpp>

namespace uvm {

namespace {

// How long an idle worker spins on the queue before it naps: a chain of
// wake-ups from another worker usually brings the next job sooner than a
// nap would.
constexpr std::chrono::microseconds spin_time{20};

// Ends the worker that takes it; stop() pushes one per worker and owns them.
class shutdown_job : public caf::resumable {
public:
  resume_result resume(caf::execution_unit*, size_t) override { return shutdown_execution_unit; }
  void intrusive_ptr_add_ref_impl() override {}
  void intrusive_ptr_release_impl() override {}
};

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

} // namespace

class handoff_scheduler::worker : public caf::execution_unit {
public:
  explicit worker(handoff_scheduler& parent)
      : caf::execution_unit(&parent.system()), parent_(parent) {}

  // Called by the actor this worker runs when it wakes another one.
  void exec_later(caf::resumable* job) override {
    if (current != this) {
      parent_.push(job);
      return;
    }
    if (auto* older = handoff_.exchange(job, std::memory_order_acq_rel)) {
      parent_.push(older);
    }
  }

  void start() {
    thread_ = std::thread{[this] {
      pthread_setname_np(pthread_self(), "uvm.worker");
      // Naps end when asked, not up to the default 50 µs later.
      prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
      system().thread_started();
      run();
      system().thread_terminates();
    }};
  }

  void join() { thread_.join(); }

  caf::resumable* take_handoff() { return handoff_.exchange(nullptr, std::memory_order_acq_rel); }
  caf::resumable* peek_handoff() const { return handoff_.load(std::memory_order_acquire); }
  // Takes the slot's job if it is still `job`.
  bool take_handoff(caf::resumable* job) {
    return handoff_.compare_exchange_strong(job, nullptr, std::memory_order_acq_rel);
  }

  // What this worker last saw in each worker's slot while it polled.
  std::vector<caf::resumable*> seen_;

private:
  void run() {
    current = this;
    size_t handoffs = 0;
    for (;;) {
      auto* job = take_handoff();
      // Over the limit, the slot's job queues behind those already waiting
      // (with none waiting it just goes on).
      if (job != nullptr && ++handoffs > handoff_limit && parent_.queued_.load() > 0) {
        parent_.push(job);
        job = nullptr;
      }
      if (job == nullptr) {
        handoffs = 0;
        job = parent_.pop(*this);
      }
      // Spawning an actor sets CAF's logger for the spawning thread; CAF
      // 0.17 then looks up a per-thread actor id under a lock twice in
      // every resume, for a build that logs nothing.
      if (caf::logger::current_logger() != nullptr) {
        caf::logger::set_current_actor_system(nullptr);
      }
      switch (job->resume(this, parent_.max_throughput())) {
      case caf::resumable::resume_later:
        parent_.push(job); // behind what waited meanwhile
        break;
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
        intrusive_ptr_release(job);
        break;
      case caf::resumable::shutdown_execution_unit:
        return;
      }
    }
  }

  static thread_local worker* current;

  handoff_scheduler& parent_;
  std::atomic<caf::resumable*> handoff_{nullptr};
  std::thread thread_;
};

thread_local handoff_scheduler::worker* handoff_scheduler::worker::current = nullptr;

handoff_scheduler::handoff_scheduler(caf::actor_system& sys, std::chrono::microseconds nap,
                                     std::chrono::microseconds idle_poll)
    : abstract_coordinator(sys), nap_(nap), idle_poll_(idle_poll) {}

handoff_scheduler::~handoff_scheduler() = default;

void handoff_scheduler::install(caf::actor_system_config& cfg, std::chrono::microseconds nap,
                                std::chrono::microseconds idle_poll) {
  cfg.module_factories.push_back([nap, idle_poll](caf::actor_system& sys) {
    return static_cast<caf::actor_system::module*>(new handoff_scheduler(sys, nap, idle_poll));
  });
}

void handoff_scheduler::enqueue(caf::resumable* job) {
  push(job);
}

void handoff_scheduler::push(caf::resumable* job) {
  std::lock_guard<std::mutex> lock{mutex_};
  queue_.push_back(job);
  queued_.store(queue_.size(), std::memory_order_release);
  // A polling worker takes the job without a wake-up (and the pusher,
  // often a timer or I/O thread, saves the system call).
  if (sleeping_ > 0 && queue_.size() > polling_.load(std::memory_order_acquire)) {
    wake_.notify_one();
  }
}

caf::resumable* handoff_scheduler::pop_front_locked() {
  if (queue_.empty()) {
    return nullptr;
  }
  auto* job = queue_.front();
  queue_.pop_front();
  queued_.store(queue_.size(), std::memory_order_release);
  return job;
}

caf::resumable* handoff_scheduler::try_pop() {
  if (queued_.load(std::memory_order_acquire) == 0) {
    return nullptr; // no lock while the queue looks empty
  }
  std::lock_guard<std::mutex> lock{mutex_};
  return pop_front_locked();
}

caf::resumable* handoff_scheduler::steal_handoff(const worker& thief) {
  for (auto& w : workers_) {
    if (w.get() != &thief) {
      if (auto* job = w->take_handoff()) {
        return job;
      }
    }
  }
  return nullptr;
}

caf::resumable* handoff_scheduler::steal_stuck(worker& thief) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto& w = *workers_[i];
    if (&w == &thief) {
      continue;
    }
    auto* job = w.peek_handoff();
    if (job != nullptr && job == thief.seen_[i] && w.take_handoff(job)) {
      return job;
    }
    thief.seen_[i] = job;
  }
  return nullptr;
}

caf::resumable* handoff_scheduler::poll(worker& w) {
  auto until = std::chrono::steady_clock::now() + spin_time;
  for (unsigned i = 1;; ++i) {
    if (auto* job = try_pop()) {
      return job;
    }
    cpu_relax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) {
      break;
    }
  }
  std::fill(w.seen_.begin(), w.seen_.end(), nullptr);
  for (size_t n = 0; n < nap_rounds; ++n) {
    std::this_thread::sleep_for(nap_);
    if (auto* job = try_pop()) {
      return job;
    }
    if (auto* job = steal_stuck(w)) {
      return job;
    }
  }
  return nullptr;
}

caf::resumable* handoff_scheduler::pop(worker& w) {
  polling_.fetch_add(1, std::memory_order_acq_rel);
  auto* polled = poll(w);
  polling_.fetch_sub(1, std::memory_order_acq_rel);
  if (polled != nullptr) {
    return polled;
  }
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    if (auto* job = pop_front_locked()) {
      return job;
    }
    ++sleeping_;
    auto woke = wake_.wait_for(lock, idle_poll_);
    --sleeping_;
    if (woke == std::cv_status::timeout && queue_.empty()) {
      lock.unlock();
      if (auto* job = steal_handoff(w)) {
        return job;
      }
      lock.lock();
    }
  }
}

void handoff_scheduler::start() {
  auto n = num_workers();
  workers_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<worker>(*this));
  }
  for (auto& w : workers_) {
    w->seen_.resize(n, nullptr);
  }
  for (auto& w : workers_) {
    w->start();
  }
  timer_ = std::thread{[this] {
    pthread_setname_np(pthread_self(), "uvm.clock");
    system().thread_started();
    clock_.run_dispatch_loop();
    system().thread_terminates();
  }};
  abstract_coordinator::start();
}

void handoff_scheduler::stop() {
  std::vector<shutdown_job> ends(workers_.size());
  for (auto& end : ends) {
    push(&end);
  }
  stop_actors();
  for (auto& w : workers_) {
    w->join();
  }
  // What no worker ran any more.
  for (auto& w : workers_) {
    if (auto* job = w->take_handoff()) {
      cleanup_and_release(job);
    }
  }
  for (auto* job : queue_) {
    cleanup_and_release(job);
  }
  queue_.clear();
  clock_.cancel_dispatch_loop();
  timer_.join();
}

} // namespace uvm
