// Where the completions of one actor's asynchronous steps (HCS calls, guest
// requests, retry timers) come back to it. A step's continuation always
// runs on the actor's own turn and never inside the call that started the
// step, whatever the step does:
//
//   - a completion from another thread (a backend's timer thread, the
//     bridge child's reply) parks its continuation and wakes the actor with
//     one message carrying its id; the actor's handler for it calls
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
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace uvm {

class completion_inbox {
public:
  // Posts "completion `id` is ready" to the owner; called from any thread.
  using wake_fn = std::function<void(uint64_t id)>;
  // Posts it to the owner once `delay` has passed (from the owner's turn).
  using wake_after_fn = std::function<void(std::chrono::milliseconds delay, uint64_t id)>;

  completion_inbox(wake_fn wake, wake_after_fn wake_after)
      : shared_(std::make_shared<shared>(std::move(wake))), wake_after_(std::move(wake_after)) {}

  // A completion for a step whose result `then(R)` handles on the owner's
  // turn. Call it at most once, from any thread, at any time.
  template <class R, class Then>
  std::function<void(R)> expect(Then then) {
    ++pending_;
    auto c = std::make_shared<step<R, Then>>(shared_, epoch_, std::move(then));
    return [c](R r) {
      c->result.emplace(std::move(r));
      if (auto inbox = c->inbox.lock()) {
        inbox->ready(c);
      }
    };
  }

  // Runs `fn` on the owner's turn once `delay` has passed.
  void after(std::chrono::milliseconds delay, std::function<void()> fn) {
    ++pending_;
    wake_after_(delay, shared_->park(std::make_shared<timer>(epoch_, std::move(fn))));
  }

  // Runs `f` as one of the owner's turns; completions that arrive inside
  // it run after it, before turn() returns.
  template <class F>
  void turn(F&& f) {
    auto& in_turn = shared_->in_turn;
    if (in_turn.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
      f(); // a turn inside a turn (a continuation starting more steps)
      return;
    }
    in_turn.store(std::this_thread::get_id(), std::memory_order_relaxed);
    f();
    drain();
    in_turn.store(std::thread::id{}, std::memory_order_relaxed);
  }

  // The owner's turn for a wake message: runs parked completion `id`, and
  // what it queued.
  void deliver(uint64_t id) {
    turn([this, id] {
      if (auto s = shared_->unpark(id)) {
        run(*s);
      }
    });
  }

  // Steps whose continuation has not run yet.
  size_t pending() const { return pending_; }

  // The owner ends: no continuation runs any more, late completions are
  // dropped.
  void drop_all() {
    ++epoch_;
    pending_ = 0;
    shared_->queued.clear();
  }

private:
  struct shared;

  // One step in flight: its continuation, and its result once it came.
  // It refers to its inbox weakly: a completion outliving its owner (and
  // a step parked for an owner that is gone) keeps nothing alive.
  struct step_base {
    step_base(std::weak_ptr<shared> s, uint64_t e) : inbox(std::move(s)), epoch(e) {}
    virtual ~step_base() = default;
    virtual void run() = 0;
    std::weak_ptr<shared> inbox;
    uint64_t epoch;
  };

  template <class R, class Then>
  struct step : step_base {
    step(std::weak_ptr<shared> s, uint64_t e, Then t)
        : step_base(std::move(s), e), then(std::move(t)) {}
    void run() override { then(std::move(*result)); }
    Then then;
    std::optional<R> result; // written by the completion before it wakes the owner
  };

  struct timer : step_base {
    timer(uint64_t e, std::function<void()> f) : step_base({}, e), fn(std::move(f)) {}
    void run() override { fn(); }
    std::function<void()> fn;
  };

  using step_ptr = std::shared_ptr<step_base>;

  // What completions reach from other threads.
  struct shared {
    explicit shared(wake_fn w) : wake(std::move(w)) {}
    wake_fn wake;
    // The thread running the owner's current turn; a default id outside.
    std::atomic<std::thread::id> in_turn{};
    // Completions that arrived inside the current turn (owner's thread only).
    std::vector<step_ptr> queued;
    // Completions and timers waiting for their wake message.
    std::mutex mutex;
    uint64_t next_id = 0;
    std::unordered_map<uint64_t, step_ptr> parked;

    uint64_t park(step_ptr s) {
      std::lock_guard<std::mutex> lock{mutex};
      auto id = next_id++;
      parked.emplace(id, std::move(s));
      return id;
    }
    step_ptr unpark(uint64_t id) {
      std::lock_guard<std::mutex> lock{mutex};
      auto node = parked.extract(id);
      return node.empty() ? nullptr : std::move(node.mapped());
    }
    void ready(step_ptr s) {
      if (in_turn.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
        queued.push_back(std::move(s));
      } else {
        wake(park(std::move(s)));
      }
    }
  };

  void run(step_base& s) {
    if (s.epoch == epoch_) {
      --pending_;
      s.run();
    }
  }

  void drain() {
    auto& queued = shared_->queued;
    // Continuations may queue more; take them in arrival order.
    for (size_t i = 0; i < queued.size(); ++i) {
      auto s = std::move(queued[i]);
      run(*s);
    }
    queued.clear();
  }

  std::shared_ptr<shared> shared_;
  wake_after_fn wake_after_;
  // Completions of an earlier epoch were expected before drop_all().
  uint64_t epoch_ = 0;
  size_t pending_ = 0;
};

} // namespace uvm
