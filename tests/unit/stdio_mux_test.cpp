// The stdio mux (bridge/stdio_mux): a guest endpoint and a host endpoint
// over a socketpair, with real stdio channels listening in a temp folder
// as the host does: both directions and half close per stream, many
// streams at once, a slow reader that stalls only its own stream, failed
// dials, a vanished or misbehaving peer that ends every stream without a
// hang, no descriptor left behind; and the qemu: link that serves it.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>

#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench/core/process_stats.hpp"
#include "bridge/guest_link.hpp"
#include "bridge/stdio_mux.hpp"
#include "bridge/stdio_mux_frame.hpp"
#include "bridge/stdio_relay.hpp"

using namespace std::chrono_literals;
using uvm::bench::describe;
using uvm::bench::settled_descriptors;
using uvm::bridge::stdio_channel;
using uvm::bridge::stdio_mux;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    auto p = (std::filesystem::temp_directory_path() / "uvm-mux-XXXXXX").string();
    REQUIRE(::mkdtemp(p.data()) != nullptr);
    path = p;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// A guest and a host endpoint joined by a socketpair, as QEMU joins them.
struct mux_pair {
  temp_dir dir;
  std::unique_ptr<stdio_mux> guest, host;

  explicit mux_pair(std::chrono::milliseconds dial_timeout = 5s) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto g = stdio_mux::guest(sv[0], dial_timeout);
    auto h = stdio_mux::host(sv[1], dir.path.string());
    REQUIRE((g && h));
    guest = std::move(*g);
    host = std::move(*h);
  }
  std::unique_ptr<stdio_channel> listen(uint32_t port) {
    auto c = stdio_channel::listen(dir.path.string(), port);
    REQUIRE(c);
    return std::move(*c);
  }
  int dial(uint32_t port) {
    auto fd = guest->dial(port);
    REQUIRE(fd);
    return *fd;
  }
};

// The helpers throw instead of asserting: Catch's assertions are for the
// test's own thread, the helpers also run on others.
void expect(bool ok, const std::string& what) {
  if (!ok) {
    throw std::runtime_error(what);
  }
}

// Waits up to 5 s for `fd` to become readable: a hang fails the test.
void await_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  expect(::poll(&p, 1, 5000) == 1, "nothing to read within 5 s");
}

// Everything until end of stream; a reset counts as the end too.
std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    await_readable(fd);
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string read_some(int fd, size_t size) {
  std::string out;
  while (out.size() < size) {
    await_readable(fd);
    char buf[4096];
    auto n = ::read(fd, buf, std::min(sizeof buf, size - out.size()));
    expect(n > 0, "early end of stream");
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    expect(n > 0, "write failed");
    done += static_cast<size_t>(n);
  }
}

std::string channel_read(stdio_channel& c, size_t limit = SIZE_MAX) {
  std::string out;
  char buf[65536];
  while (out.size() < limit) {
    auto n = c.read(buf, std::min(sizeof buf, limit - out.size()));
    expect(static_cast<bool>(n), "channel read failed");
    if (*n == 0) {
      break;
    }
    out.append(buf, *n);
  }
  return out;
}

std::string channel_read_all(stdio_channel& c) {
  return channel_read(c);
}

// Runs `job` on a thread; its exception's text lands in `failure`.
std::thread spawn(std::string& failure, std::function<void()> job) {
  return std::thread([&failure, job = std::move(job)] {
    try {
      job();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
}

std::string pattern(size_t size, uint32_t seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>((i * 31 + seed * 7 + i / 251) & 0xff);
  }
  return s;
}

} // namespace

TEST_CASE("a muxed stream carries both directions and each half close", "[stdio_mux]") {
  auto fds_before = settled_descriptors();
  {
    mux_pair m;
    auto channel = m.listen(0x40000001);
    int g = m.dial(0x40000001);
    REQUIRE_FALSE(channel->write("to the guest"));
    CHECK(read_some(g, 12) == "to the guest");
    // The host's CloseStdin reaches the guest as end of stream...
    REQUIRE_FALSE(channel->close_write());
    CHECK(read_all(g).empty());
    // ...while the guest's direction keeps flowing until its own end.
    write_all(g, "from the guest");
    write_all(g, " and more");
    REQUIRE(::shutdown(g, SHUT_WR) == 0);
    CHECK(channel_read_all(*channel) == "from the guest and more");
    ::close(g);
  }
  CHECK(describe(settled_descriptors()) == describe(fds_before));
}

TEST_CASE("stdout ends at the host while the host still feeds stdin", "[stdio_mux]") {
  mux_pair m;
  auto channel = m.listen(5);
  int g = m.dial(5);
  write_all(g, "output");
  REQUIRE(::shutdown(g, SHUT_WR) == 0);
  CHECK(channel_read_all(*channel) == "output");
  // The host closed after reading: the guest, as relay_out does, sees the end.
  CHECK(read_all(g).empty());
  ::close(g);
}

TEST_CASE("many muxed streams run at once, each with its own bytes", "[stdio_mux]") {
  auto fds_before = settled_descriptors();
  {
    mux_pair m;
    constexpr uint32_t count = 16;
    std::vector<std::unique_ptr<stdio_channel>> channels;
    for (uint32_t i = 0; i < count; ++i) {
      channels.push_back(m.listen(100 + i));
    }
    std::vector<std::string> got(count), failures(2 * count);
    std::vector<std::thread> threads;
    for (uint32_t i = 0; i < count; ++i) {
      // Host: reads what the guest sends, sends it back reversed and
      // ends its direction; the guest's end comes after that.
      threads.push_back(spawn(failures[2 * i], [&, i] {
        auto data = channel_read(*channels[i], 80000 + i * 1000);
        expect(!channels[i]->write(std::string(data.rbegin(), data.rend())), "channel write");
        expect(!channels[i]->close_write(), "channel close_write");
        expect(channel_read_all(*channels[i]).empty(), "the guest's end");
      }));
      threads.push_back(spawn(failures[2 * i + 1], [&, i] {
        auto fd = m.guest->dial(100 + i);
        expect(static_cast<bool>(fd), "dial");
        write_all(*fd, pattern(80000 + i * 1000, i));
        got[i] = read_all(*fd);
        ::shutdown(*fd, SHUT_WR);
        ::close(*fd);
      }));
    }
    for (auto& t : threads) {
      t.join();
    }
    for (uint32_t i = 0; i < count; ++i) {
      auto sent = pattern(80000 + i * 1000, i);
      CHECK(got[i] == std::string(sent.rbegin(), sent.rend()));
      CHECK(failures[2 * i].empty());
      CHECK(failures[2 * i + 1].empty());
    }
    CHECK(m.guest->ended().empty());
  }
  CHECK(describe(settled_descriptors()) == describe(fds_before));
}

TEST_CASE("a stream whose reader is slow stalls only itself", "[stdio_mux]") {
  mux_pair m;
  auto big_channel = m.listen(1);
  auto ping_channel = m.listen(2);
  int big = m.dial(1);
  int ping = m.dial(2);
  const auto mib = pattern(1 << 20, 3);
  std::string failure;
  auto writer = spawn(failure, [&] {
    expect(!big_channel->write(mib), "channel write"); // blocks until the guest reads
    expect(!big_channel->close_write(), "channel close_write");
  });
  // Nobody reads the big stream yet: the other one still answers at once.
  std::this_thread::sleep_for(100ms);
  for (int i = 0; i < 100; ++i) {
    auto msg = "ping " + std::to_string(i);
    REQUIRE_FALSE(ping_channel->write(msg));
    CHECK(read_some(ping, msg.size()) == msg);
    write_all(ping, "pong");
    CHECK(channel_read(*ping_channel, 4) == "pong");
  }
  CHECK(read_all(big) == mib);
  writer.join();
  CHECK(failure.empty());
  ::close(big);
  ::close(ping);
}

TEST_CASE("a dial of a port nobody listens on fails, and the mux goes on", "[stdio_mux]") {
  mux_pair m;
  auto fd = m.guest->dial(77);
  REQUIRE_FALSE(fd);
  CHECK(fd.err().text.find("dial stdio port 77: dial ") == 0);
  CHECK(fd.err().text.find("port-77.sock: No such file or directory") != std::string::npos);
  auto channel = m.listen(78);
  int g = m.dial(78);
  write_all(g, "still here");
  ::shutdown(g, SHUT_WR);
  CHECK(channel_read_all(*channel) == "still here");
  ::close(g);
}

TEST_CASE("a host that closes a stream the guest still writes to resets it", "[stdio_mux]") {
  mux_pair m;
  auto channel = m.listen(9);
  int g = m.dial(9);
  channel->close();
  // The guest's writes fail (or its reads end) instead of blocking forever.
  const std::string chunk(65536, 'z');
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    pollfd p{g, POLLOUT, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    failed =
        ::send(g, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN;
  }
  CHECK(failed);
  ::close(g);
  CHECK(m.guest->ended().empty());
}

TEST_CASE("the host vanishing mid-stream ends every guest stream", "[stdio_mux]") {
  auto fds_before = settled_descriptors();
  {
    mux_pair m;
    std::vector<std::unique_ptr<stdio_channel>> channels;
    std::vector<int> guests;
    for (uint32_t port = 1; port <= 3; ++port) {
      channels.push_back(m.listen(port));
      guests.push_back(m.dial(port));
      REQUIRE_FALSE(channels.back()->write("partial"));
    }
    CHECK(read_some(guests[0], 7) == "partial");
    m.host->stop();
    for (int g : guests) {
      read_all(g); // ends: no hang
      ::close(g);
    }
    CHECK(m.host->ended() == "the stdio mux was stopped");
    // The guest learns it at once; later dials fail at once.
    for (int i = 0; i < 500 && m.guest->ended().empty(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    // End of stream, or a failed write if it was writing credit just then,
    // or a reset when the host's end closed with the guest's credit unread.
    auto why = m.guest->ended();
    INFO(why);
    CHECK((why == "the stdio port reached end of stream" ||
           why == "write to the stdio port: Broken pipe" ||
           why == "write to the stdio port: Connection reset by peer" ||
           why == "read from the stdio port: Connection reset by peer"));
    auto late = m.guest->dial(4);
    REQUIRE_FALSE(late);
    CHECK(late.err().text == "dial stdio port 4: " + why);
  }
  CHECK(describe(settled_descriptors()) == describe(fds_before));
}

TEST_CASE("the guest vanishing mid-stream ends every host stream", "[stdio_mux]") {
  mux_pair m;
  auto a = m.listen(1);
  auto b = m.listen(2);
  int ga = m.dial(1);
  int gb = m.dial(2);
  write_all(ga, "half");
  CHECK(channel_read(*a, 4) == "half");
  m.guest->stop();
  CHECK(channel_read_all(*a).empty());
  CHECK(channel_read_all(*b).empty());
  ::close(ga);
  ::close(gb);
}

namespace {

// The guest endpoint against a hand-written host.
struct raw_host {
  std::unique_ptr<stdio_mux> guest;
  int fd = -1;
  uvm::bridge::mux_decoder decoder;

  explicit raw_host(std::chrono::milliseconds dial_timeout = 5s) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    auto g = stdio_mux::guest(sv[0], dial_timeout);
    REQUIRE(g);
    guest = std::move(*g);
    fd = sv[1];
  }
  ~raw_host() {
    guest.reset();
    ::close(fd);
  }
  uvm::bridge::mux_frame next_frame() {
    for (;;) {
      if (auto f = decoder.next()) {
        return *f;
      }
      expect(!decoder.failed(), decoder.error());
      await_readable(fd);
      char buf[4096];
      auto n = ::read(fd, buf, sizeof buf);
      expect(n > 0, "the guest closed the port");
      decoder.feed(buf, static_cast<size_t>(n));
    }
  }
  void send(uvm::bridge::mux_frame_type type, uint32_t port, const std::string& payload = {}) {
    std::string out;
    uvm::bridge::append_mux_frame(out, type, port, payload);
    write_all(fd, out);
  }
  // Guest ends once `bytes` arrive: its error text.
  std::string ended_after(const std::string& bytes) {
    write_all(fd, bytes);
    for (int i = 0; i < 500 && guest->ended().empty(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    return guest->ended();
  }
};

} // namespace

TEST_CASE("a malformed frame ends the guest mux and every stream", "[stdio_mux]") {
  using uvm::bridge::mux_frame_type;
  raw_host h;
  std::string failure;
  auto answer = spawn(failure, [&] {
    auto open = h.next_frame();
    expect(open.type == mux_frame_type::open && open.port == 3, "an open of port 3");
    h.send(mux_frame_type::accept, 3);
  });
  auto g = h.guest->dial(3);
  answer.join();
  REQUIRE(failure.empty());
  REQUIRE(g);
  CHECK(h.ended_after("garbage that is no frame") == "malformed stdio mux frame: bad magic 0x6167");
  CHECK(read_all(*g).empty());
  ::close(*g);
}

TEST_CASE("a host that breaks the protocol ends the guest mux", "[stdio_mux]") {
  using uvm::bridge::mux_frame_type;
  raw_host h;
  std::string failure;
  auto answer = spawn(failure, [&] {
    h.next_frame();
    h.send(mux_frame_type::accept, 3);
  });
  auto g = h.guest->dial(3);
  answer.join();
  REQUIRE(failure.empty());
  REQUIRE(g);
  SECTION("data beyond the credit") {
    std::string out;
    uvm::bridge::append_mux_frame(out, mux_frame_type::data, 3, std::string(65536, 'a'));
    uvm::bridge::append_mux_frame(out, mux_frame_type::data, 3, "b");
    CHECK(h.ended_after(out) == "stdio mux protocol error: data for port 3 beyond its credit");
  }
  SECTION("an open from the host") {
    std::string out;
    uvm::bridge::append_mux_frame(out, mux_frame_type::open, 8);
    CHECK(h.ended_after(out) == "stdio mux protocol error: unexpected open of port 8");
  }
  ::close(*g);
}

TEST_CASE("a dial the host never answers gives up and resets the stream", "[stdio_mux]") {
  using uvm::bridge::mux_frame_type;
  raw_host h{100ms};
  auto fd = h.guest->dial(11);
  REQUIRE_FALSE(fd);
  CHECK(fd.err().text == "dial stdio port 11: no answer from the host within 100 ms");
  CHECK(h.next_frame().type == mux_frame_type::open);
  auto reset = h.next_frame();
  CHECK(reset.type == mux_frame_type::reset);
  CHECK(reset.port == 11);
  // A late accept is answered with a reset, not a crash.
  h.send(mux_frame_type::accept, 11);
  h.send(mux_frame_type::reset, 11, "refused");
  CHECK(h.guest->ended().empty());
}

TEST_CASE("a host reset fails the guest's dial with the host's reason", "[stdio_mux]") {
  using uvm::bridge::mux_frame_type;
  raw_host h;
  std::string failure;
  auto answer = spawn(failure, [&] {
    h.next_frame();
    h.send(mux_frame_type::reset, 12, "dial /x/port-12.sock: Connection refused");
  });
  auto fd = h.guest->dial(12);
  answer.join();
  CHECK(failure.empty());
  REQUIRE_FALSE(fd);
  CHECK(fd.err().text == "dial stdio port 12: dial /x/port-12.sock: Connection refused");
}

namespace {

int listen_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  return fd;
}

} // namespace

TEST_CASE("a qemu: link dials DIR/gcs.sock and serves the stdio mux on DIR/stdio.sock",
          "[stdio_mux]") {
  temp_dir vm, relays;
  uvm::bridge::io_loop loop{1};
  uvm::bridge::guest_link::options opts;
  opts.loop = &loop;
  opts.stdio_dir = relays.path.string();
  auto missing = uvm::bridge::guest_link::open("qemu:" + vm.path.string(), opts);
  REQUIRE_FALSE(missing);
  CHECK(missing.err().text ==
        "connect " + vm.path.string() + "/stdio.sock: No such file or directory");
  // QEMU's chardev servers, here plain listeners.
  int gcs = listen_unix(vm.path.string() + "/gcs.sock");
  int stdio = listen_unix(vm.path.string() + "/stdio.sock");
  auto l = uvm::bridge::guest_link::open("qemu:" + vm.path.string(), opts);
  REQUIRE(l);
  int bridge = ::accept(gcs, nullptr, nullptr);
  int port = ::accept(stdio, nullptr, nullptr);
  REQUIRE((bridge >= 0 && port >= 0));
  REQUIRE((*l)->stream().write("bridge bytes"));
  CHECK(read_some(bridge, 12) == "bridge bytes");
  // The guest's end of the port: a relay dialed through it reaches the
  // channel in the link's stdio folder.
  auto guest = stdio_mux::guest(port);
  REQUIRE(guest);
  auto channel = stdio_channel::listen(relays.path.string(), 0x40000001);
  REQUIRE(channel);
  auto g = (*guest)->dial(0x40000001);
  REQUIRE(g);
  write_all(*g, "stdout in a VM");
  ::shutdown(*g, SHUT_WR);
  CHECK(channel_read_all(**channel) == "stdout in a VM");
  // The link's end goes with it: the guest's mux sees the port end.
  l->reset();
  CHECK(read_all(*g).empty());
  for (int i = 0; i < 500 && (*guest)->ended().empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK_FALSE((*guest)->ended().empty());
  for (int fd : {*g, bridge, gcs, stdio}) {
    ::close(fd);
  }
}
