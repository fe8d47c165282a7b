// The host's stdio channels (bridge/stdio_relay): one dial per port, reads
// and writes that wait for the guest, the end-of-stream close, aborts that
// wake a waiter, and communicate() moving more than a socket buffer each
// way at once.
#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge/stdio_relay.hpp"
#include "guest/process_params.hpp"

using namespace std::chrono_literals;
using uvm::bridge::stdio_channel;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    auto p = (std::filesystem::temp_directory_path() / "uvm-relay-XXXXXX").string();
    REQUIRE(::mkdtemp(p.data()) != nullptr);
    path = p;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

} // namespace

TEST_CASE("a stdio channel takes one dial and carries both directions", "[stdio]") {
  temp_dir dir;
  auto c = stdio_channel::listen(dir.path.string(), 0x40000001);
  REQUIRE(c);
  CHECK((*c)->port() == 0x40000001);
  CHECK(std::filesystem::exists(dir.path / "port-1073741825.sock"));
  auto guest = uvm::guest::dial_relay(dir.path.string(), 0x40000001);
  REQUIRE(guest);
  REQUIRE_FALSE((*c)->write("to the guest"));
  CHECK_FALSE((*c)->close_write());
  CHECK(read_all(*guest) == "to the guest");
  // The listener is gone once the guest is connected.
  CHECK_FALSE(std::filesystem::exists(dir.path / "port-1073741825.sock"));
  CHECK_FALSE(uvm::guest::dial_relay(dir.path.string(), 0x40000001));
  ::write(*guest, "back", 4);
  ::shutdown(*guest, SHUT_WR);
  char buf[16];
  auto n = (*c)->read(buf, sizeof buf);
  REQUIRE(n);
  CHECK(std::string(buf, *n) == "back");
  n = (*c)->read(buf, sizeof buf);
  REQUIRE(n);
  CHECK(*n == 0);
  // The host closed its end at the end of the stream: the guest sees it.
  CHECK(read_all(*guest).empty());
  ::close(*guest);
}

TEST_CASE("a wait for a guest that never dials ends with the abort's reason", "[stdio]") {
  temp_dir dir;
  auto c = stdio_channel::listen(dir.path.string(), 7);
  REQUIRE(c);
  std::string why;
  std::thread reader([&] {
    char buf[8];
    auto n = (*c)->read(buf, sizeof buf);
    why = n ? "read returned" : n.err().text;
  });
  std::this_thread::sleep_for(50ms);
  (*c)->abort("bridge closed: the guest closed the connection");
  reader.join();
  CHECK(why == "bridge closed: the guest closed the connection");
  CHECK((*c)->write("x").text == "bridge closed: the guest closed the connection");
}

TEST_CASE("closing a channel the guest dialed but the host never read ends the guest's wait",
          "[stdio]") {
  temp_dir dir;
  auto c = stdio_channel::listen(dir.path.string(), 9);
  REQUIRE(c);
  auto guest = uvm::guest::dial_relay(dir.path.string(), 9);
  REQUIRE(guest);
  ::write(*guest, "unread", 6);
  ::shutdown(*guest, SHUT_WR);
  (*c)->close();
  CHECK(read_all(*guest).empty()); // end of stream, not a hang
  ::close(*guest);
  CHECK((*c)->write("x").text == "stdio port 9 closed");
}

TEST_CASE("communicate moves more than a socket buffer each way at once", "[stdio]") {
  temp_dir dir;
  uvm::bridge::process_stdio stdio;
  for (auto [slot, port] : {std::pair{&stdio.in, 1u}, {&stdio.out, 2u}, {&stdio.err, 3u}}) {
    auto c = stdio_channel::listen(dir.path.string(), port);
    REQUIRE(c);
    *slot = std::move(*c);
  }
  // A guest that echoes stdin to stdout as it reads, then says "done" on
  // stderr: it only finishes reading if the host reads at the same time.
  std::thread guest([&] {
    auto in = uvm::guest::dial_relay(dir.path.string(), 1);
    auto out = uvm::guest::dial_relay(dir.path.string(), 2);
    auto err = uvm::guest::dial_relay(dir.path.string(), 3);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(*in, buf, sizeof buf)) > 0) {
      ::write(*out, buf, static_cast<size_t>(n));
    }
    ::write(*err, "done", 4);
    for (int fd : {*in, *out, *err}) {
      ::shutdown(fd, SHUT_WR);
      read_all(fd);
      ::close(fd);
    }
  });
  std::string input(4 << 20, 'x');
  for (size_t i = 0; i < input.size(); i += 4093) {
    input[i] = static_cast<char>('a' + i % 26);
  }
  auto r = stdio.communicate(input);
  guest.join();
  REQUIRE(r);
  CHECK(r->out == input);
  CHECK(r->err == "done");
}
