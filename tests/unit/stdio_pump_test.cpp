// The stdio pump's credits (actors/core/stdio_pump.hpp): a source reads
// only as many chunks as it was granted, a sink grants one back per chunk
// written, and a broken sink tells the other side to stop.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/core/stdio_pump.hpp"

namespace {

using uvm::stdio_pump;

// What the callbacks saw, waited for from the test's thread.
struct seen {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> data;
  std::vector<uint8_t> eofs;
  uint32_t credits = 0;
  int finished = 0;

  stdio_pump::callbacks callbacks() {
    return {[this](uint8_t, std::string d) { add([&] { data.push_back(std::move(d)); }); },
            [this](uint8_t s) { add([&] { eofs.push_back(s); }); },
            [this](uint8_t, uint32_t n) { add([&] { credits += n; }); },
            [this](uint8_t) { add([&] { ++finished; }); }};
  }
  template <class F>
  void add(F f) {
    std::lock_guard<std::mutex> lock{m};
    f();
    cv.notify_all();
  }
  template <class P>
  bool wait(P p) {
    std::unique_lock<std::mutex> lock{m};
    return cv.wait_for(lock, std::chrono::seconds{5}, p);
  }
};

} // namespace

TEST_CASE("a source reads no more chunks than it was granted") {
  seen s;
  std::atomic<int> reads{0};
  std::atomic<bool> cancelled{false};
  {
    stdio_pump pump{s.callbacks()};
    pump.add_source(1, {[&](char* buf, size_t) -> uvm::result<size_t> {
                          ++reads;
                          buf[0] = 'x';
                          return size_t{1};
                        },
                        [&] { cancelled = true; }});
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    CHECK(reads == 0);
    pump.grant(1, 3);
    REQUIRE(s.wait([&] { return s.data.size() == 3; }));
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    CHECK(reads == 3);
    // More than a window at once is capped.
    pump.grant(1, 1000);
    REQUIRE(s.wait([&] { return s.data.size() == 3 + stdio_pump::window; }));
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    CHECK(reads == static_cast<int>(3 + stdio_pump::window));
  }
  CHECK(cancelled);
  CHECK(s.eofs == std::vector<uint8_t>{1}); // the other side's sink closes
  CHECK(s.finished == 1);
}

TEST_CASE("a source that ends sends its end once") {
  seen s;
  stdio_pump pump{s.callbacks()};
  int left = 2;
  pump.add_source(2, {[&](char* buf, size_t) -> uvm::result<size_t> {
                        if (left-- > 0) {
                          buf[0] = 'y';
                          return size_t{1};
                        }
                        return size_t{0};
                      },
                      [] {}});
  pump.grant(2, 8);
  REQUIRE(s.wait([&] { return s.finished == 1; }));
  CHECK(s.data.size() == 2);
  CHECK(s.eofs == std::vector<uint8_t>{2});
}

TEST_CASE("a sink writes in order, grants a credit per chunk and closes after the last") {
  seen s;
  std::string written;
  bool closed = false;
  stdio_pump pump{s.callbacks()};
  pump.add_sink(0, {[&](std::string_view d) -> uvm::error {
                      written.append(d);
                      return {};
                    },
                    [&] { closed = true; }, [] {}});
  pump.push(0, "ab");
  pump.push(0, "cd");
  pump.finish(0);
  REQUIRE(s.wait([&] { return s.finished == 1; }));
  CHECK(written == "abcd");
  CHECK(s.credits == 2);
  CHECK(closed);
  CHECK(pump.queued_bytes() == 0);
}

TEST_CASE("a sink drops chunks past its window and tells a broken stream's source to stop") {
  seen s;
  std::mutex gate;
  gate.lock(); // the first write blocks until the test lets it go
  int writes = 0;
  stdio_pump pump{s.callbacks()};
  pump.add_sink(0, {[&](std::string_view) -> uvm::error {
                      std::lock_guard<std::mutex> lock{gate};
                      ++writes;
                      return uvm::error{uvm::errc::io_failure, "reader gone"};
                    },
                    [] {}, [] {}});
  for (uint32_t i = 0; i < stdio_pump::window + 5; ++i) {
    pump.push(0, "z");
  }
  CHECK(pump.queued_bytes() <= stdio_pump::window);
  gate.unlock();
  REQUIRE(s.wait([&] { return !s.eofs.empty(); }));
  CHECK(s.eofs == std::vector<uint8_t>{0});
  CHECK(s.credits == 0);
  pump.finish(0);
  REQUIRE(s.wait([&] { return s.finished == 1; }));
  CHECK(writes == 1);
}
