// A guest's log reader: its handler hears the chunks, then exactly one
// end, whether the channel ends, the reader is stopped, or the reader is
// dropped (with the I/O loop that held its grace timer) before either.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bridge/log_reader.hpp"

using namespace std::chrono_literals;

namespace {

struct heard {
  std::mutex m;
  std::condition_variable cv;
  std::string bytes;
  int ends = 0;

  uvm::output_handler handler() {
    return [this](std::string_view chunk, bool end) {
      std::lock_guard<std::mutex> lock{m};
      if (end) {
        ++ends;
      } else {
        bytes.append(chunk);
      }
      cv.notify_all();
    };
  }
  bool wait_bytes(const std::string& want) {
    std::unique_lock<std::mutex> lock{m};
    return cv.wait_for(lock, 10s, [&] { return bytes == want; });
  }
  int end_count() {
    std::lock_guard<std::mutex> lock{m};
    return ends;
  }
};

} // namespace

TEST_CASE("a log reader dropped with its loop inside the grace still ends its handler once",
          "[log_reader]") {
  heard h;
  // The guest's end stays open throughout, as an exec: guest's child that
  // still holds the descriptor would keep it.
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  auto loop = std::make_unique<uvm::bridge::io_loop>(1);
  auto reader =
      uvm::bridge::log_reader::start(*loop, uvm::bridge::fd_stream(*loop, pair[0]), h.handler());
  REQUIRE(::write(pair[1], "entry\n", 6) == 6);
  REQUIRE(h.wait_bytes("entry\n"));
  // The VM is gone: the reader waits out the grace on the loop's timer,
  // which is all that holds it, and the engine is torn down meanwhile.
  reader->finish_within(1h);
  reader.reset();
  CHECK(h.end_count() == 0);
  loop.reset();
  CHECK(h.end_count() == 1);
  ::close(pair[1]);
}

TEST_CASE("a log reader whose channel ended says nothing more when dropped", "[log_reader]") {
  heard h;
  uvm::bridge::io_loop loop{1};
  auto [host, agent] = uvm::bridge::memory_pipe(loop);
  auto reader = uvm::bridge::log_reader::start(loop, host, h.handler());
  REQUIRE(agent->write("last\n"));
  agent->shut();
  REQUIRE(h.wait_bytes("last\n"));
  for (int i = 0; i < 1000 && !reader->ended(); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(reader->ended());
  reader.reset();
  CHECK(h.end_count() == 1);
}
