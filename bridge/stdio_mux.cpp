#include "bridge/stdio_mux.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge/stdio_mux_frame.hpp"

namespace uvm::bridge {

namespace {

// Above this many bytes queued for the port, no stream is read and no
// credit is granted, so the queue stays bounded while the peer is slow.
constexpr size_t out_high_water = 256 * 1024;
// Streams the host keeps open at once for one guest.
constexpr size_t max_streams = 1024;

std::string errno_text(const std::string& what, int code = errno) {
  return what + ": " + std::strerror(code);
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// A unix socket connects to a listener at once or fails: nonblocking is
// safe and keeps the pump from ever waiting on a stuck listener.
result<int> dial_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return error{errc::io_failure, "relay socket path too long: " + path};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return error{errc::io_failure, errno_text("socket")};
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    auto why = errno_text("dial " + path);
    ::close(fd);
    return error{errc::io_failure, why};
  }
  return fd;
}

struct stream {
  int fd = -1;                  // the mux's end, nonblocking
  bool open = false;            // the host accepted it (always, on the host)
  uint32_t credit = mux_window; // bytes the peer still takes
  uint32_t owed = 0;            // bytes passed on, not yet credited back
  std::string rx;               // from the peer, not yet passed on
  size_t rx_offset = 0;
  bool rx_end = false;  // the peer sent end
  bool rx_shut = false; // ... and the local socket got it (SHUT_WR)
  bool tx_end = false;  // the local socket ended; we sent end

  size_t rx_pending() const { return rx.size() - rx_offset; }
};

using streams_t = std::map<uint32_t, stream>;

} // namespace

struct stdio_mux::impl {
  bool is_guest = true;
  int port_fd = -1;
  bool port_is_socket = false;
  int wake_fd = -1;
  std::string stdio_dir;
  std::chrono::milliseconds dial_timeout{0};
  std::thread pump;

  // Shared with the callers of dial() and stop(), under `mutex`.
  struct dial_state {
    bool done = false;
    std::string failure; // empty: accepted
  };
  mutable std::mutex mutex;
  std::condition_variable answered;
  std::vector<std::pair<uint32_t, int>> requests; // port and the mux's end; -1 gives up
  std::map<uint32_t, dial_state> dials;
  bool stopping = false;
  std::string ended;

  // The pump thread's own.
  streams_t streams;
  mux_decoder decoder;
  std::string out; // frames for the port
  size_t out_offset = 0;

  ~impl() {
    for (int fd : {port_fd, wake_fd}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  size_t out_pending() const { return out.size() - out_offset; }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  // Guest: the outcome of a dial; false when nobody waits for it any more.
  bool settle(uint32_t port, const std::string& failure) {
    std::lock_guard<std::mutex> lock{mutex};
    auto d = dials.find(port);
    if (d == dials.end() || d->second.done) {
      return false;
    }
    d->second = {true, failure};
    answered.notify_all();
    return true;
  }

  void drop(streams_t::iterator s) {
    ::close(s->second.fd);
    streams.erase(s);
  }

  void reset(streams_t::iterator s, const std::string& why) {
    append_mux_frame(out, mux_frame_type::reset, s->first, why);
    if (is_guest && !s->second.open) {
      settle(s->first, why);
    }
    drop(s);
  }

  void run() {
    auto why = loop();
    for (auto& [port, s] : streams) {
      ::close(s.fd);
    }
    streams.clear();
    ::close(port_fd); // the peer sees end of stream
    port_fd = -1;
    std::lock_guard<std::mutex> lock{mutex};
    ended = why;
    for (auto& [port, d] : dials) {
      if (!d.done) {
        d = {true, why};
      }
    }
    for (auto& [port, fd] : requests) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    requests.clear();
    answered.notify_all();
  }

  std::string loop() {
    std::vector<pollfd> fds;
    std::vector<uint32_t> ports;
    std::vector<char> buf(mux_max_data);
    for (;;) {
      if (auto stop = take_requests()) {
        return *stop;
      }
      grant_credit();
      if (auto e = flush_out(); !e.empty()) {
        return e;
      }
      bool room = out_pending() < out_high_water;
      fds.assign({{wake_fd, POLLIN, 0},
                  {port_fd, static_cast<short>(POLLIN | (out_pending() > 0 ? POLLOUT : 0)), 0}});
      ports.clear();
      for (auto& [port, s] : streams) {
        short events = 0;
        if (s.open && !s.tx_end && s.credit > 0 && room) {
          events |= POLLIN;
        }
        if (s.rx_pending() > 0) {
          events |= POLLOUT;
        }
        // Ignored entries (fd -1) keep a hung-up socket from waking us.
        fds.push_back({events != 0 ? s.fd : -1, events, 0});
        ports.push_back(port);
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        return errno_text("stdio mux: poll");
      }
      if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (auto e = read_port(buf); !e.empty()) {
          return e;
        }
      }
      for (size_t i = 0; i < ports.size(); ++i) {
        const auto& p = fds[i + 2];
        auto s = streams.find(ports[i]);
        // Frames just read may have ended the stream.
        if (p.revents == 0 || s == streams.end() || s->second.fd != p.fd) {
          continue;
        }
        if ((p.events & POLLOUT) != 0 && (p.revents & (POLLOUT | POLLHUP | POLLERR)) != 0 &&
            !pass_on(s)) {
          continue;
        }
        if ((p.events & POLLIN) != 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
            out_pending() < out_high_water) {
          read_local(s, buf);
        }
      }
      // Both directions ended: the stream is gone.
      for (auto s = streams.begin(); s != streams.end();) {
        auto next = std::next(s);
        if (s->second.tx_end && s->second.rx_shut) {
          drop(s);
        }
        s = next;
      }
    }
  }

  std::optional<std::string> take_requests() {
    uint64_t count;
    [[maybe_unused]] auto n = ::read(wake_fd, &count, sizeof count);
    std::vector<std::pair<uint32_t, int>> taken;
    {
      std::lock_guard<std::mutex> lock{mutex};
      if (stopping) {
        return "the stdio mux was stopped";
      }
      taken.swap(requests);
    }
    for (auto [port, fd] : taken) {
      auto s = streams.find(port);
      if (fd < 0) {
        if (s != streams.end() && !s->second.open) {
          reset(s, "the guest gave up dialing");
        }
      } else if (s != streams.end()) {
        ::close(fd);
        settle(port, "port " + std::to_string(port) + " is already open");
      } else {
        streams[port].fd = fd;
        append_mux_frame(out, mux_frame_type::open, port);
      }
    }
    return std::nullopt;
  }

  void grant_credit() {
    for (auto& [port, s] : streams) {
      if (out_pending() >= out_high_water) {
        return;
      }
      if (s.owed > 0 && !s.rx_end) {
        append_mux_credit(out, port, s.owed);
        s.owed = 0;
      }
    }
  }

  std::string flush_out() {
    while (out_pending() > 0) {
      const char* data = out.data() + out_offset;
      auto n = port_is_socket ? ::send(port_fd, data, out_pending(), MSG_NOSIGNAL | MSG_DONTWAIT)
                              : ::write(port_fd, data, out_pending());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        break;
      }
      if (n < 0) {
        return errno_text("write to the stdio port");
      }
      out_offset += static_cast<size_t>(n);
    }
    // What was written goes, so a port that never quite drains does not
    // grow the buffer.
    if (out_offset == out.size() || out_offset >= out_high_water) {
      out.erase(0, out_offset);
      out_offset = 0;
    }
    return {};
  }

  std::string read_port(std::vector<char>& buf) {
    auto n = port_is_socket ? ::recv(port_fd, buf.data(), buf.size(), MSG_DONTWAIT)
                            : ::read(port_fd, buf.data(), buf.size());
    if (n < 0) {
      return errno == EAGAIN || errno == EINTR ? "" : errno_text("read from the stdio port");
    }
    if (n == 0) {
      return "the stdio port reached end of stream";
    }
    decoder.feed(buf.data(), static_cast<size_t>(n));
    while (auto f = decoder.next()) {
      if (auto e = handle(*f); !e.empty()) {
        return "stdio mux protocol error: " + e;
      }
    }
    return decoder.error();
  }

  // Passes what the peer sent on to the local socket; false when that
  // failed and the stream was reset.
  bool pass_on(streams_t::iterator it) {
    auto& s = it->second;
    while (s.rx_pending() > 0) {
      auto n = ::send(s.fd, s.rx.data() + s.rx_offset, s.rx_pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && errno == EAGAIN) {
        return true;
      }
      if (n < 0) {
        reset(it, errno_text("stdio port " + std::to_string(it->first) + ": write"));
        return false;
      }
      s.rx_offset += static_cast<size_t>(n);
      s.owed += static_cast<uint32_t>(n);
    }
    s.rx.clear();
    s.rx_offset = 0;
    if (s.rx_end && !s.rx_shut) {
      ::shutdown(s.fd, SHUT_WR);
      s.rx_shut = true;
    }
    return true;
  }

  void read_local(streams_t::iterator it, std::vector<char>& buf) {
    auto& s = it->second;
    auto want = std::min<size_t>(s.credit, buf.size());
    auto n = ::recv(s.fd, buf.data(), want, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    if (n < 0) {
      reset(it, errno_text("stdio port " + std::to_string(it->first) + ": read"));
    } else if (n == 0) {
      append_mux_frame(out, mux_frame_type::end, it->first);
      s.tx_end = true;
    } else {
      append_mux_frame(out, mux_frame_type::data, it->first,
                       std::string_view{buf.data(), static_cast<size_t>(n)});
      s.credit -= static_cast<uint32_t>(n);
    }
  }

  // Host: the guest opens a stream.
  void open_stream(uint32_t port) {
    if (streams.size() >= max_streams) {
      append_mux_frame(out, mux_frame_type::reset, port, "too many open stdio streams");
      return;
    }
    auto fd = dial_unix(stdio_dir + "/port-" + std::to_string(port) + ".sock");
    if (!fd) {
      append_mux_frame(out, mux_frame_type::reset, port, fd.err().text);
      return;
    }
    auto& s = streams[port];
    s.fd = *fd;
    s.open = true;
    append_mux_frame(out, mux_frame_type::accept, port);
  }

  // An error text ends the mux. Frames for unknown ports are dropped: the
  // stream may have been reset while they were on the way.
  std::string handle(const mux_frame& f) {
    auto port = std::to_string(f.port);
    auto it = streams.find(f.port);
    bool known = it != streams.end();
    switch (f.type) {
    case mux_frame_type::open:
      if (is_guest || known) {
        return "unexpected open of port " + port;
      }
      open_stream(f.port);
      return {};
    case mux_frame_type::accept:
      if (!is_guest || (known && it->second.open)) {
        return "unexpected accept of port " + port;
      }
      if (known && !settle(f.port, {})) {
        reset(it, "the guest gave up dialing");
      } else if (known) {
        it->second.open = true;
      }
      return {};
    case mux_frame_type::reset:
      if (known) {
        auto why = f.payload.empty() ? "reset by the peer" : f.payload;
        if (is_guest && !it->second.open) {
          settle(f.port, why);
        }
        drop(it);
      }
      return {};
    default:
      break;
    }
    if (!known) {
      return {};
    }
    auto& s = it->second;
    if (!s.open || (f.type != mux_frame_type::credit && s.rx_end)) {
      return "unexpected frame for port " + port + " (before accept or after end)";
    }
    if (f.type == mux_frame_type::credit) {
      if (s.credit + uint64_t{mux_credit_bytes(f)} > mux_window) {
        return "credit for port " + port + " beyond the window";
      }
      s.credit += mux_credit_bytes(f);
      return {};
    }
    if (f.type == mux_frame_type::end) {
      s.rx_end = true;
    } else if (s.rx_pending() + s.owed + f.payload.size() > mux_window) {
      return "data for port " + port + " beyond its credit";
    } else {
      s.rx.erase(0, s.rx_offset);
      s.rx_offset = 0;
      s.rx += f.payload;
    }
    pass_on(it);
    return {};
  }
};

stdio_mux::stdio_mux(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

result<std::unique_ptr<stdio_mux>> stdio_mux::start(std::unique_ptr<impl> i) {
  struct stat st {};
  if (::fstat(i->port_fd, &st) != 0 || !set_nonblocking(i->port_fd)) {
    return error{errc::io_failure, errno_text("stdio port")};
  }
  i->port_is_socket = S_ISSOCK(st.st_mode);
  i->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (i->wake_fd < 0) {
    return error{errc::io_failure, errno_text("eventfd")};
  }
  i->pump = std::thread([p = i.get()] { p->run(); });
  return std::unique_ptr<stdio_mux>{new stdio_mux(std::move(i))};
}

result<std::unique_ptr<stdio_mux>> stdio_mux::guest(int port_fd,
                                                    std::chrono::milliseconds dial_timeout) {
  auto i = std::make_unique<impl>();
  i->port_fd = port_fd;
  i->dial_timeout = dial_timeout;
  return start(std::move(i));
}

result<std::unique_ptr<stdio_mux>> stdio_mux::host(int port_fd, std::string stdio_dir) {
  auto i = std::make_unique<impl>();
  i->is_guest = false;
  i->port_fd = port_fd;
  i->stdio_dir = std::move(stdio_dir);
  return start(std::move(i));
}

stdio_mux::~stdio_mux() {
  stop();
}

void stdio_mux::stop() {
  {
    std::lock_guard<std::mutex> lock{impl_->mutex};
    impl_->stopping = true;
  }
  impl_->wake();
  if (impl_->pump.joinable()) {
    impl_->pump.join();
  }
}

std::string stdio_mux::ended() const {
  std::lock_guard<std::mutex> lock{impl_->mutex};
  return impl_->ended;
}

result<int> stdio_mux::dial(uint32_t port) {
  auto& m = *impl_;
  auto fail = [&](const std::string& why) {
    return error{errc::io_failure, "dial stdio port " + std::to_string(port) + ": " + why};
  };
  if (!m.is_guest) {
    return fail("the host's stdio mux does not dial");
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail(errno_text("socketpair"));
  }
  auto refuse = [&](const std::string& why) {
    ::close(pair[0]);
    ::close(pair[1]);
    return fail(why);
  };
  if (!set_nonblocking(pair[1])) {
    return refuse(errno_text("fcntl"));
  }
  std::unique_lock<std::mutex> lock{m.mutex};
  if (!m.ended.empty()) {
    return refuse(m.ended);
  }
  if (!m.dials.emplace(port, impl::dial_state{}).second) {
    return refuse("a dial of this port is under way");
  }
  m.requests.emplace_back(port, pair[1]);
  m.wake();
  bool in_time = m.answered.wait_for(lock, m.dial_timeout, [&] { return m.dials[port].done; });
  auto outcome = m.dials[port];
  m.dials.erase(port);
  if (in_time && outcome.failure.empty()) {
    return pair[0];
  }
  ::close(pair[0]);
  if (!in_time) {
    m.requests.emplace_back(port, -1); // the pump resets the stream
    m.wake();
    return fail("no answer from the host within " + std::to_string(m.dial_timeout.count()) + " ms");
  }
  return fail(outcome.failure);
}

} // namespace uvm::bridge
