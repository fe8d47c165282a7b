// The engine's scheduler (engine/handoff_scheduler.hpp) on a real actor
// system: requests and replies, a pair of actors that keep waking each
// other beside a third, an actor handed off by a handler that then blocks,
// messages from other threads, and jobs that are not actors (which TSan can
// judge: it cannot see inside CAF's mailboxes).
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "engine/handoff_scheduler.hpp"

namespace {

using namespace std::chrono_literals;

using caf::ping_atom;
using caf::ping_atom_v;
using caf::pong_atom;
using caf::pong_atom_v;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
constexpr stop_atom stop_atom_v{};

struct system_on_handoff {
  explicit system_on_handoff(int workers) {
    cfg.set("scheduler.max-threads", workers);
    uvm::handoff_scheduler::install(cfg, 50us, 1ms);
  }
  caf::actor_system_config cfg;
};

// Answers each ping with the number plus `step`. (Every actor here takes
// an argument: CAF 0.17 spawns a function without one through a null
// pointer, which UBSan reports.)
caf::behavior echo(caf::event_based_actor*, int step) {
  return {[step](ping_atom, int n) { return n + step; }};
}

// Sends ping_atom to `peer` on every pong until stopped: with the peer
// doing the same, the two wake each other without end.
caf::behavior volley(caf::event_based_actor* self, std::shared_ptr<std::atomic<bool>> stop,
                     std::shared_ptr<std::atomic<uint64_t>> count) {
  return {[=](pong_atom, const caf::actor& peer) {
    count->fetch_add(1);
    if (!stop->load()) {
      self->send(peer, pong_atom_v, caf::actor_cast<caf::actor>(self));
    }
  }};
}

} // namespace

TEST_CASE("handoff scheduler: the system it is installed in runs on it", "[threaded]") {
  system_on_handoff s{2};
  caf::actor_system sys{s.cfg};
  REQUIRE(dynamic_cast<uvm::handoff_scheduler*>(&sys.scheduler()) != nullptr);
  auto e = sys.spawn(echo, 1);
  caf::scoped_actor self{sys};
  int total = 0;
  for (int i = 0; i < 1000; ++i) {
    self->request(e, 5s, ping_atom_v, i)
        .receive([&](int n) { total += n - i; }, [&](caf::error&) { FAIL("no reply"); });
  }
  CHECK(total == 1000);
}

TEST_CASE("handoff scheduler: two actors waking each other do not starve a third", "[threaded]") {
  // One worker: the pair always hands off to each other, so only the limit
  // on handoffs lets the third actor's request in.
  system_on_handoff s{1};
  caf::actor_system sys{s.cfg};
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto count = std::make_shared<std::atomic<uint64_t>>(0);
  auto a = sys.spawn(volley, stop, count);
  auto b = sys.spawn(volley, stop, count);
  caf::anon_send(a, pong_atom_v, b);
  while (count->load() < 10000) {
    std::this_thread::yield();
  }
  auto e = sys.spawn(echo, 1);
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(e, 10s, ping_atom_v, 1)
      .receive([&](int n) { answered = n == 2; }, [&](caf::error&) {});
  CHECK(answered);
  CHECK(count->load() > 10000); // the pair kept going meanwhile
  stop->store(true);
}

TEST_CASE("handoff scheduler: an actor handed off by a handler that blocks runs elsewhere",
          "[threaded]") {
  system_on_handoff s{2};
  caf::actor_system sys{s.cfg};
  using time_point = std::chrono::steady_clock::time_point;
  std::promise<time_point> ran;
  auto target = sys.spawn(
      [](caf::event_based_actor*, std::promise<time_point>* ran) -> caf::behavior {
        return {[ran](ping_atom, int) { ran->set_value(std::chrono::steady_clock::now()); }};
      },
      &ran);
  time_point sent;
  auto blocker = sys.spawn(
      [](caf::event_based_actor* self, caf::actor target, time_point* sent) -> caf::behavior {
        return {[self, target, sent](stop_atom) {
          // The target was idle, so it lands in this worker's slot ...
          *sent = std::chrono::steady_clock::now();
          self->send(target, ping_atom_v, 0);
          // ... while this handler keeps the worker for a long time.
          std::this_thread::sleep_for(2s);
        }};
      },
      target, &sent);
  caf::anon_send(blocker, stop_atom_v);
  auto done = ran.get_future();
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
  // The other worker took it up well before the handler ended.
  CHECK(done.get() - sent < 1s);
}

TEST_CASE("handoff scheduler: messages from many outside threads all arrive", "[threaded]") {
  system_on_handoff s{2};
  caf::actor_system sys{s.cfg};
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto counter = sys.spawn(
      [](caf::event_based_actor*, std::shared_ptr<std::atomic<int>> seen) -> caf::behavior {
        return {[seen](ping_atom, int) { seen->fetch_add(1); }};
      },
      seen);
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        caf::anon_send(counter, ping_atom_v, i);
        if (i % 100 == 0) {
          std::this_thread::sleep_for(50us); // let the workers fall asleep
        }
      }
    });
  }
  for (auto& t : senders) {
    t.join();
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seen->load() < 20000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(seen->load() == 20000);
}

namespace {

// A job that is not an actor, so that TSan (which cannot see inside CAF's
// mailboxes) judges the scheduler's own hand-offs: `runs` is a plain
// field, touched only by whichever worker runs the job, and each run hands
// the peer job on from inside it (the slot) or from outside (the queue).
struct relay_job : caf::resumable {
  relay_job* peer = nullptr;
  uint64_t limit = 0;
  uint64_t runs = 0;
  std::atomic<int>* finished = nullptr;

  resume_result resume(caf::execution_unit* ctx, size_t) override {
    ++runs;
    if (runs == limit) {
      finished->fetch_add(1, std::memory_order_release);
    } else {
      ctx->exec_later(peer); // the last thing this run does
    }
    return awaiting_message;
  }
  void intrusive_ptr_add_ref_impl() override {}
  void intrusive_ptr_release_impl() override {}
};

} // namespace

TEST_CASE("handoff scheduler: jobs handed on between workers and threads run in order") {
  constexpr int pairs = 8;
  constexpr uint64_t per_job = 20000;
  // Before the system: a worker still touches a job after its last run.
  std::atomic<int> finished{0};
  std::vector<relay_job> jobs(2 * pairs);
  system_on_handoff s{2};
  caf::actor_system sys{s.cfg};
  for (int p = 0; p < pairs; ++p) {
    auto& a = jobs[static_cast<size_t>(2 * p)];
    auto& b = jobs[static_cast<size_t>(2 * p + 1)];
    a.peer = &b;
    b.peer = &a;
    // a runs first and reaches the limit first: b then has run one time less.
    a.limit = b.limit = per_job;
    a.finished = b.finished = &finished;
  }
  // Half the pairs start from this thread (the shared queue), half from
  // threads of their own.
  std::vector<std::thread> starters;
  for (int p = 0; p < pairs; ++p) {
    auto* first = &jobs[static_cast<size_t>(2 * p)];
    if (p % 2 == 0) {
      sys.scheduler().enqueue(first);
    } else {
      starters.emplace_back([&sys, first] { sys.scheduler().enqueue(first); });
    }
  }
  for (auto& t : starters) {
    t.join();
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (finished.load(std::memory_order_acquire) < pairs &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(finished.load(std::memory_order_acquire) == pairs);
  for (int p = 0; p < pairs; ++p) {
    CHECK(jobs[static_cast<size_t>(2 * p)].runs == per_job);
    CHECK(jobs[static_cast<size_t>(2 * p + 1)].runs == per_job - 1);
  }
}
