// The bridges' shared deadline timer: wake-ups run once, never early,
// cancelled ones never, and nothing runs once the timer is gone.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "bridge/io_loop.hpp"
#include "bridge/sweep_timer.hpp"

using namespace uvm::bridge;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// What the wake-ups did, for the test thread to wait on.
struct wake_log {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::pair<int, clock_type::time_point>> woke; // which, when

  std::function<void()> wake(int which) {
    return [this, which] {
      std::lock_guard<std::mutex> lock{mutex};
      woke.emplace_back(which, clock_type::now());
      cv.notify_all();
    };
  }
  bool wait_for(size_t n) {
    std::unique_lock<std::mutex> lock{mutex};
    return cv.wait_for(lock, 10s, [&] { return woke.size() >= n; });
  }
  size_t count() {
    std::lock_guard<std::mutex> lock{mutex};
    return woke.size();
  }
};

} // namespace

TEST_CASE("sweep timer wakes each owner once, never before its due time", "[sweep_timer]") {
  auto io = std::make_shared<io_loop>(1);
  sweep_timer timer{io, 5ms};
  wake_log log;
  const auto start = clock_type::now();
  std::vector<clock_type::time_point> due;
  for (int i = 0; i < 20; ++i) {
    due.push_back(start + std::chrono::milliseconds(10 * (20 - i)));
    timer.schedule(due.back(), log.wake(i));
  }
  CHECK(timer.scheduled() == 20);
  REQUIRE(log.wait_for(20));
  std::this_thread::sleep_for(30ms); // nothing runs twice
  std::lock_guard<std::mutex> lock{log.mutex};
  REQUIRE(log.woke.size() == 20);
  std::vector<bool> seen(20, false);
  for (auto& [which, at] : log.woke) {
    CHECK_FALSE(seen[which]);
    seen[which] = true;
    CHECK(at >= due[which]);
  }
  // The latest due first scheduled wakes last.
  CHECK(log.woke.back().first == 0);
  CHECK(timer.scheduled() == 0);
}

TEST_CASE("sweep timer: a cancelled wake-up never runs, the others do", "[sweep_timer]") {
  auto io = std::make_shared<io_loop>(1);
  sweep_timer timer{io, 2ms};
  wake_log log;
  auto now = clock_type::now();
  auto a = timer.schedule(now + 20ms, log.wake(1));
  auto b = timer.schedule(now + 20ms, log.wake(2));
  timer.cancel(a);
  timer.cancel(sweep_timer::ticket{}); // names nothing
  CHECK(timer.scheduled() == 1);
  REQUIRE(log.wait_for(1));
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard<std::mutex> lock{log.mutex};
    REQUIRE(log.woke.size() == 1);
    CHECK(log.woke.front().first == 2);
  }
  timer.cancel(b); // it ran: ignored
  CHECK(timer.scheduled() == 0);
}

TEST_CASE("sweep timer starts again after it went idle", "[sweep_timer]") {
  auto io = std::make_shared<io_loop>(2);
  sweep_timer timer{io, 1ms};
  wake_log log;
  timer.schedule(clock_type::now(), log.wake(1));
  REQUIRE(log.wait_for(1));
  std::this_thread::sleep_for(20ms); // its ticks found nothing and stopped
  timer.schedule(clock_type::now() + 5ms, log.wake(2));
  REQUIRE(log.wait_for(2));
  // A wake-up that schedules another (a bridge whose sweep finds later
  // deadlines) is served too.
  timer.schedule(clock_type::now(), [&] { timer.schedule(clock_type::now(), log.wake(3)); });
  REQUIRE(log.wait_for(3));
}

TEST_CASE("sweep timer: nothing runs once it is destroyed", "[sweep_timer]") {
  auto io = std::make_shared<io_loop>(1);
  wake_log log;
  {
    sweep_timer timer{io, 1ms};
    for (int i = 0; i < 100; ++i) {
      timer.schedule(clock_type::now() + 30ms, log.wake(i));
    }
  }
  std::this_thread::sleep_for(80ms);
  CHECK(log.count() == 0);
}

TEST_CASE("sweep resolution is a quarter of the RPC timeout, within 1-100 ms", "[sweep_timer]") {
  CHECK(sweep_resolution(std::chrono::minutes(5)) == 100ms);
  CHECK(sweep_resolution(200ms) == 50ms);
  CHECK(sweep_resolution(2ms) == 1ms);
}
