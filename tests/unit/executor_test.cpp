// The thread executor (real timers, concurrent) and the manual executor
// (virtual time, deterministic order).
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "hcs/executor.hpp"

using namespace uvm::hcs;
using namespace std::chrono_literals;
using std::chrono::microseconds;
using std::chrono::steady_clock;

TEST_CASE("thread executor overlaps timers", "[executor]") {
  auto ex = make_thread_executor(2);
  std::mutex mutex;
  std::condition_variable cv;
  int done = 0;
  const auto start = steady_clock::now();
  std::vector<steady_clock::time_point> ran;
  for (int i = 0; i < 50; ++i) {
    ex->post_after(50ms, [&] {
      std::lock_guard<std::mutex> lock(mutex);
      ran.push_back(steady_clock::now());
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  REQUIRE(cv.wait_for(lock, 10s, [&] { return done == 50; }));
  const auto elapsed = steady_clock::now() - start;
  CHECK(elapsed < 1000ms); // serially it would take 2500 ms
  for (auto at : ran) {
    CHECK(at - start >= 50ms); // never early
  }
}

TEST_CASE("thread executor never runs a task inline", "[executor]") {
  auto ex = make_thread_executor(1);
  std::promise<std::thread::id> ran_on;
  ex->post_after(0us, [&] { ran_on.set_value(std::this_thread::get_id()); });
  auto id = ran_on.get_future().get();
  CHECK(id != std::this_thread::get_id());
}

TEST_CASE("thread executor destructor drops pending tasks", "[executor]") {
  auto sentinel = std::make_shared<int>(0);
  std::atomic<bool> ran{false};
  auto ex = make_thread_executor(2);
  for (int i = 0; i < 10; ++i) {
    ex->post_after(10s, [&ran, sentinel] { ran = true; });
  }
  CHECK(sentinel.use_count() == 11);
  const auto start = steady_clock::now();
  ex.reset();
  CHECK(steady_clock::now() - start < 2s); // did not wait for the timers
  CHECK_FALSE(ran);
  CHECK(sentinel.use_count() == 1); // destroyed, not leaked
}

TEST_CASE("thread executor may be released by its own task", "[executor]") {
  auto ex = make_thread_executor(1);
  std::promise<void> released;
  auto done = released.get_future();
  auto* raw = ex.get();
  raw->post_after(0us, [owner = std::move(ex), &released]() mutable {
    owner.reset(); // the last reference: destroyed on its own thread
    released.set_value();
  });
  CHECK(done.wait_for(5s) == std::future_status::ready);
}

TEST_CASE("manual executor runs in due order, FIFO among equals", "[executor]") {
  manual_executor ex;
  std::vector<std::string> order;
  auto note = [&](std::string what) { return [&order, what] { order.push_back(what); }; };
  ex.post_after(2ms, note("b1"));
  ex.post_after(1ms, note("a"));
  ex.post_after(2ms, note("b2"));
  ex.post_after(0us, note("now"));
  CHECK(ex.pending() == 4);
  CHECK(order.empty()); // nothing runs by itself

  CHECK(ex.run_ready() == 1);
  CHECK(order == std::vector<std::string>{"now"});
  CHECK(ex.advance(1999us) == 1);
  CHECK(ex.now() == 1999us);
  CHECK(ex.advance(1us) == 2);
  CHECK(order == std::vector<std::string>{"now", "a", "b1", "b2"});
  CHECK(ex.pending() == 0);
  CHECK(ex.now() == 2ms);
}

TEST_CASE("manual executor: tasks see their due time and may post more", "[executor]") {
  manual_executor ex;
  std::vector<microseconds> seen;
  ex.post_after(3ms, [&] {
    seen.push_back(ex.now());
    ex.post_after(0us, [&] { seen.push_back(ex.now()); }); // due now: same pass
    ex.post_after(5ms, [&] { seen.push_back(ex.now()); });
  });
  CHECK(ex.advance(4ms) == 2);
  CHECK(seen == std::vector<microseconds>{3ms, 3ms});
  CHECK(ex.now() == 4ms);
  CHECK(ex.run_all() == 1);
  CHECK(seen.back() == 8ms);
  CHECK(ex.now() == 8ms);
  CHECK(ex.run_ready() == 0);
}

TEST_CASE("manual executor accepts posts from other threads", "[executor]") {
  manual_executor ex;
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        ex.post_after(microseconds(i), [&] { ++ran; });
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(ex.pending() == 1000);
  CHECK(ex.run_all() == 1000);
  CHECK(ran == 1000);
}

TEST_CASE("manual executor destructor drops pending tasks", "[executor]") {
  auto sentinel = std::make_shared<int>(0);
  bool ran = false;
  {
    manual_executor ex;
    ex.post_after(1ms, [&ran, sentinel] { ran = true; });
  }
  CHECK_FALSE(ran);
  CHECK(sentinel.use_count() == 1);
}
