// completion_inbox: every continuation runs on the owner's turn and never
// inside the call that started its step, whether the completion comes
// inside that call, later on another thread, or from a timer.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "actors/core/completion_inbox.hpp"

using namespace std::chrono_literals;
using uvm::completion_inbox;

namespace {

// The owner's mailbox, as the inbox's wake-ups fill it.
struct owner {
  std::mutex m;
  std::vector<uint64_t> woken;
  std::vector<std::pair<std::chrono::milliseconds, uint64_t>> timers;
  completion_inbox inbox{
      [this](uint64_t id) {
        std::lock_guard<std::mutex> lock{m};
        woken.push_back(id);
      },
      [this](std::chrono::milliseconds d, uint64_t id) { timers.emplace_back(d, id); }};
};

} // namespace

TEST_CASE("a completion inside the call runs after the turn, not inside the call",
          "[completion_inbox]") {
  owner o;
  std::vector<std::string> order;
  o.inbox.turn([&] {
    auto done =
        o.inbox.expect<int>([&](int r) { order.push_back("continuation " + std::to_string(r)); });
    done(42); // a backend completing inside the call
    order.push_back("after the call");
  });
  REQUIRE(order.size() == 2);
  CHECK(order[0] == "after the call");
  CHECK(order[1] == "continuation 42");
  CHECK(o.woken.empty()); // no wake-up message was needed
  CHECK(o.inbox.pending() == 0);
}

TEST_CASE("continuations that start more steps inside the turn run in arrival order",
          "[completion_inbox]") {
  owner o;
  std::vector<int> order;
  o.inbox.turn([&] {
    auto first = o.inbox.expect<int>([&](int r) {
      order.push_back(r);
      auto second = o.inbox.expect<int>([&](int s) { order.push_back(s); });
      second(2);
      order.push_back(3);
    });
    first(1);
  });
  CHECK(order == std::vector<int>{1, 3, 2});
}

TEST_CASE("a completion from another thread wakes the owner, whose turn runs it",
          "[completion_inbox]") {
  owner o;
  int got = 0;
  std::function<void(int)> done;
  o.inbox.turn([&] { done = o.inbox.expect<int>([&](int r) { got = r; }); });
  std::thread t{[&] { done(7); }};
  t.join();
  CHECK(got == 0); // not run on the completing thread
  REQUIRE(o.woken.size() == 1);
  o.inbox.deliver(o.woken[0]);
  CHECK(got == 7);
  CHECK(o.inbox.pending() == 0);
  // A second wake-up for the same id runs nothing.
  o.inbox.deliver(o.woken[0]);
  CHECK(got == 7);
}

TEST_CASE("a completion outside any turn on the owner's thread also waits for a wake-up",
          "[completion_inbox]") {
  owner o;
  int got = 0;
  auto done = o.inbox.expect<int>([&](int r) { got = r; });
  done(5);
  CHECK(got == 0);
  REQUIRE(o.woken.size() == 1);
  o.inbox.deliver(o.woken[0]);
  CHECK(got == 5);
}

TEST_CASE("timers run on the owner's turn once their wake-up comes", "[completion_inbox]") {
  owner o;
  bool fired = false;
  o.inbox.after(10ms, [&] { fired = true; });
  REQUIRE(o.timers.size() == 1);
  CHECK(o.timers[0].first == 10ms);
  CHECK_FALSE(fired);
  CHECK(o.inbox.pending() == 1);
  o.inbox.deliver(o.timers[0].second);
  CHECK(fired);
  CHECK(o.inbox.pending() == 0);
}

TEST_CASE("after drop_all nothing runs: late completions and timers are dropped",
          "[completion_inbox]") {
  owner o;
  int runs = 0;
  std::function<void(int)> late;
  o.inbox.turn([&] {
    late = o.inbox.expect<int>([&](int) { ++runs; });
    o.inbox.after(5ms, [&] { ++runs; });
  });
  CHECK(o.inbox.pending() == 2);
  o.inbox.drop_all();
  CHECK(o.inbox.pending() == 0);
  late(1);
  for (auto id : o.woken) {
    o.inbox.deliver(id);
  }
  o.inbox.deliver(o.timers.at(0).second);
  CHECK(runs == 0);
  // Steps expected afterwards run as usual.
  o.inbox.turn([&] { o.inbox.expect<int>([&](int) { ++runs; })(2); });
  CHECK(runs == 1);
}

TEST_CASE("a completion that outlives its inbox does nothing", "[completion_inbox]") {
  std::function<void(int)> done;
  bool ran = false;
  {
    owner o;
    done = o.inbox.expect<int>([&](int) { ran = true; });
  }
  done(1);
  CHECK_FALSE(ran);
}
