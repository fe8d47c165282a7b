// Where the completions of one actor's asynchronous steps (HCS calls, guest
// requests, retry timers) come back to it. A step's continuation always
// runs on the actor's own turn and never inside the call that started the
// step, whatever the step does:
//
//   - a completion from another thread (a backend's timer thread, the
//     bridge child's reply) stores its result and wakes the actor with
//     one message carrying the step's id; the actor's handler for it calls
//     deliver(id);
//   - a completion inside the call (the simulator's inline completions,
//     the stub guest) is queued and run when the current turn() returns,
//     which saves the wake-up message: no continuation can tell the two
//     apart, so none needs to fear running before its caller's next line;
//   - a timer (after()) wakes the actor once its delay has passed.
//
// The owner wraps each of its turns (each handler that starts steps) in
// turn(). Pure: no actor system; the owner supplies the wake-ups.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace uvm {

class completion_inbox {
public:
  // Posts "completion `id` is ready" to the owner; called from any thread.
  using wake_fn = std::function<void(uint64_t id)>;
  // Posts it to the owner once `delay` has passed.
  using wake_after_fn = std::function<void(std::chrono::milliseconds delay, uint64_t id)>;

  completion_inbox(wake_fn wake, wake_after_fn wake_after)
      : shared_(std::make_shared<shared>(std::move(wake))), wake_after_(std::move(wake_after)) {}

  // A completion for a step whose result `then` handles on the owner's
  // turn. Call it at most once, from any thread, at any time.
  template <class R>
  std::function<void(R)> expect(std::function<void(R)> then) {
    auto id = next_++;
    auto s = std::make_shared<slot>();
    slots_.emplace(id, s);
    return [sh = shared_, s, id, then = std::move(then)](R r) mutable {
      s->run = [then = std::move(then), r = std::move(r)]() mutable { then(std::move(r)); };
      sh->ready(id);
    };
  }

  // Runs `fn` on the owner's turn once `delay` has passed.
  void after(std::chrono::milliseconds delay, std::function<void()> fn) {
    auto id = next_++;
    auto s = std::make_shared<slot>();
    s->run = std::move(fn);
    slots_.emplace(id, std::move(s));
    wake_after_(delay, id);
  }

  // Runs `f` as one of the owner's turns; completions that arrive inside
  // it run after it, before turn() returns.
  template <class F>
  void turn(F&& f) {
    if (shared_->in_turn.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
      f(); // a turn inside a turn (a continuation starting more steps)
      return;
    }
    shared_->in_turn.store(std::this_thread::get_id(), std::memory_order_relaxed);
    f();
    drain();
    shared_->in_turn.store(std::thread::id{}, std::memory_order_relaxed);
  }

  // The owner's turn for a wake message: runs completion `id` (if it is
  // still expected) and what it queued.
  void deliver(uint64_t id) {
    turn([this, id] { run(id); });
  }

  // Steps whose completion has not run yet.
  size_t pending() const { return slots_.size(); }

  // The owner ends: no continuation runs any more, late completions are
  // dropped.
  void drop_all() {
    slots_.clear();
    shared_->queued.clear();
  }

private:
  struct slot {
    std::function<void()> run; // set by the completion, before it wakes the owner
  };

  // What completions reach from other threads.
  struct shared {
    explicit shared(wake_fn w) : wake(std::move(w)) {}
    wake_fn wake;
    // The thread running the owner's current turn; a default id outside.
    std::atomic<std::thread::id> in_turn{};
    // Completions that arrived inside the current turn (owner's thread only).
    std::vector<uint64_t> queued;

    void ready(uint64_t id) {
      if (in_turn.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
        queued.push_back(id);
      } else {
        wake(id);
      }
    }
  };

  void run(uint64_t id) {
    auto node = slots_.extract(id);
    if (!node.empty() && node.mapped()->run) {
      node.mapped()->run();
    }
  }

  void drain() {
    auto& queued = shared_->queued;
    // Continuations may queue more; take them in arrival order.
    for (size_t i = 0; i < queued.size(); ++i) {
      run(queued[i]);
    }
    queued.clear();
  }

  std::shared_ptr<shared> shared_;
  wake_after_fn wake_after_;
  uint64_t next_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<slot>> slots_;
};

} // namespace uvm
