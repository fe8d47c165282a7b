// The I/O loop's byte streams: a memory pipe carries bytes in order both
// ways and ends cleanly; a descriptor stream never blocks its writer, and a
// peer that reads nothing fails its own stream, not the loop.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bridge/byte_stream.hpp"

using namespace std::chrono_literals;
using uvm::bridge::byte_stream;

namespace {

// What one end received, for the test thread to wait on.
struct received {
  std::mutex m;
  std::condition_variable cv;
  std::string bytes;
  bool ended = false;
  std::optional<std::string> failure;

  byte_stream::handlers handlers() {
    return {[this](std::string_view b) {
              std::lock_guard<std::mutex> lock{m};
              bytes.append(b);
              cv.notify_all();
            },
            [this](std::optional<std::string> why) {
              std::lock_guard<std::mutex> lock{m};
              ended = true;
              failure = std::move(why);
              cv.notify_all();
            }};
  }
  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock<std::mutex> lock{m};
    return cv.wait_for(lock, 10s, pred);
  }
};

} // namespace

TEST_CASE("a memory pipe carries bytes in order both ways, also those sent before start",
          "[byte_stream]") {
  uvm::bridge::io_loop loop{2};
  auto [host, agent] = uvm::bridge::memory_pipe(loop);
  received at_host, at_agent;
  REQUIRE(host->write("early "));
  agent->start(at_agent.handlers());
  host->start(at_host.handlers());
  std::string expected = "early ";
  for (int i = 0; i < 1000; ++i) {
    auto chunk = std::to_string(i) + ",";
    expected += chunk;
    REQUIRE(host->write(chunk));
    REQUIRE(agent->write(chunk));
  }
  CHECK(at_agent.wait([&] { return at_agent.bytes == expected; }));
  CHECK(at_host.wait([&] { return at_host.bytes == expected.substr(6); }));
  CHECK_FALSE(at_host.ended);
  CHECK_FALSE(at_agent.ended);
}

TEST_CASE("a memory pipe's end reaches the peer as a clean end, and writes after it fail",
          "[byte_stream]") {
  uvm::bridge::io_loop loop{1};
  auto [host, agent] = uvm::bridge::memory_pipe(loop);
  received at_host, at_agent;
  host->start(at_host.handlers());
  agent->start(at_agent.handlers());
  agent->shut();
  CHECK(at_host.wait([&] { return at_host.ended; }));
  CHECK_FALSE(at_host.failure);
  CHECK_FALSE(agent->write("late"));
  CHECK_FALSE(host->write("late"));
  // The end that shut hears nothing: its owner knows.
  std::this_thread::sleep_for(20ms);
  CHECK_FALSE(at_agent.ended);
}

TEST_CASE("dropping the first end of a memory pipe ends the second", "[byte_stream]") {
  uvm::bridge::io_loop loop{1};
  auto [host, agent] = uvm::bridge::memory_pipe(loop);
  received at_agent;
  agent->start(at_agent.handlers());
  host.reset();
  CHECK(at_agent.wait([&] { return at_agent.ended; }));
  CHECK_FALSE(agent->write("to nobody"));
}

TEST_CASE("a descriptor stream reads what its peer writes and sees its peer close",
          "[byte_stream]") {
  uvm::bridge::io_loop loop{1};
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  auto s = uvm::bridge::fd_stream(loop, pair[0]);
  received got;
  s->start(got.handlers());
  REQUIRE(::write(pair[1], "hello", 5) == 5);
  CHECK(got.wait([&] { return got.bytes == "hello"; }));
  REQUIRE(s->write("world"));
  char buf[16] = {};
  REQUIRE(::read(pair[1], buf, sizeof buf) == 5);
  CHECK(std::string(buf, 5) == "world");
  ::close(pair[1]);
  CHECK(got.wait([&] { return got.ended; }));
  CHECK_FALSE(got.failure);
}

TEST_CASE("a peer that reads nothing fails its own stream once too much waits; the writer never "
          "blocks",
          "[byte_stream]") {
  uvm::bridge::io_loop loop{1};
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  auto stuck = uvm::bridge::fd_stream(loop, pair[0]);
  received got;
  stuck->start(got.handlers());
  // Meanwhile another stream on the same loop keeps working.
  auto [a, b] = uvm::bridge::memory_pipe(loop);
  received other;
  b->start(other.handlers());
  std::string mib(1 << 20, 'x');
  auto t0 = std::chrono::steady_clock::now();
  size_t written = 0;
  while (stuck->write(mib) && written < 2 * uvm::bridge::max_queued_bytes) {
    written += mib.size();
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(got.wait([&] { return got.ended; }));
  REQUIRE(got.failure);
  CHECK(got.failure->find("bridge write: the guest reads nothing") == 0);
  REQUIRE(a->write("still served"));
  CHECK(other.wait([&] { return other.bytes == "still served"; }));
  ::close(pair[1]);
}
