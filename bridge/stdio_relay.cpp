#include "bridge/stdio_relay.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace uvm::bridge {

namespace {

error io(const std::string& what, int code = errno) {
  return error{errc::io_failure, what + ": " + std::strerror(code)};
}

} // namespace

result<std::unique_ptr<stdio_channel>> stdio_channel::listen(const std::string& dir,
                                                             uint32_t port) {
  std::unique_ptr<stdio_channel> c{new stdio_channel};
  c->port_ = port;
  c->path_ = dir + "/port-" + std::to_string(port) + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (c->path_.size() >= sizeof addr.sun_path) {
    return error{errc::io_failure, "relay socket path too long: " + c->path_};
  }
  std::memcpy(addr.sun_path, c->path_.c_str(), c->path_.size() + 1);
  if (::pipe2(c->wake_, O_CLOEXEC) != 0) {
    return io("pipe");
  }
  c->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->listen_fd_ < 0) {
    return io("socket");
  }
  ::unlink(c->path_.c_str()); // a leftover of an earlier engine
  if (::bind(c->listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(c->listen_fd_, 1) != 0) {
    auto e = io("listen " + c->path_);
    c->path_.clear(); // not ours to unlink
    return e;
  }
  return c;
}

stdio_channel::~stdio_channel() {
  for (int fd : {listen_fd_, conn_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  if (listen_fd_ >= 0 && !path_.empty()) {
    ::unlink(path_.c_str());
  }
}

result<int> stdio_channel::connection() {
  std::lock_guard<std::mutex> accept_lock{accept_mutex_};
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (failed_) {
      return error{errc::io_failure, *failed_};
    }
    if (conn_fd_ >= 0) {
      return conn_fd_;
    }
  }
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  for (;;) {
    auto n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io("poll");
    }
    break;
  }
  std::lock_guard<std::mutex> lock{mutex_};
  if (failed_) {
    return error{errc::io_failure, *failed_};
  }
  int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    failed_ = "accept on " + path_ + ": " + std::strerror(errno);
    return error{errc::io_failure, *failed_};
  }
  conn_fd_ = fd;
  // One connection per port: the listener goes.
  ::close(listen_fd_);
  listen_fd_ = -1;
  ::unlink(path_.c_str());
  return conn_fd_;
}

result<size_t> stdio_channel::read(char* data, size_t size) {
  auto fd = connection();
  if (!fd) {
    return fd.err();
  }
  for (;;) {
    auto n = ::recv(*fd, data, size, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io("read from stdio port " + std::to_string(port_));
    }
    if (n == 0) {
      std::lock_guard<std::mutex> lock{mutex_};
      close_locked();
    }
    return static_cast<size_t>(n);
  }
}

error stdio_channel::write(std::string_view data) {
  auto fd = connection();
  if (!fd) {
    return fd.err();
  }
  while (!data.empty()) {
    auto n = ::send(*fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io("write to stdio port " + std::to_string(port_));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

error stdio_channel::close_write() {
  auto fd = connection();
  if (!fd) {
    return fd.err();
  }
  std::lock_guard<std::mutex> lock{mutex_};
  if (!write_closed_) {
    write_closed_ = true;
    ::shutdown(*fd, SHUT_WR);
  }
  return {};
}

// The descriptor itself stays open until the destructor: another thread
// may still be inside recv() on it, and a reused number would be worse.
void stdio_channel::close_locked() {
  if (conn_fd_ >= 0) {
    ::shutdown(conn_fd_, SHUT_RDWR);
  }
}

void stdio_channel::abort(const std::string& why) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (conn_fd_ >= 0 || failed_) {
    return;
  }
  failed_ = why;
  char one = 1;
  [[maybe_unused]] auto n = ::write(wake_[1], &one, 1);
}

void stdio_channel::close() {
  std::lock_guard<std::mutex> lock{mutex_};
  if (!failed_) {
    failed_ = "stdio port " + std::to_string(port_) + " closed";
    char one = 1;
    [[maybe_unused]] auto n = ::write(wake_[1], &one, 1);
  }
  // A guest that dialed but was never accepted waits for the host's end
  // too: take its connection so that it sees the close.
  if (conn_fd_ < 0 && listen_fd_ >= 0) {
    pollfd ready{listen_fd_, POLLIN, 0};
    if (::poll(&ready, 1, 0) > 0) {
      conn_fd_ = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    }
  }
  close_locked();
}

result<process_output> process_stdio::communicate(std::string_view input) {
  process_output result;
  struct stream {
    stdio_channel* channel;
    int fd = -1;
    std::string* sink = nullptr; // null for stdin
  };
  std::vector<stream> open;
  if (in) {
    auto fd = in->connection();
    if (!fd) {
      return fd.err();
    }
    if (input.empty()) {
      if (auto e = in->close_write()) {
        return e;
      }
    } else {
      open.push_back({in.get(), *fd, nullptr});
    }
  }
  for (auto [channel, sink] : {std::pair{out.get(), &result.out}, {err.get(), &result.err}}) {
    if (channel != nullptr) {
      auto fd = channel->connection();
      if (!fd) {
        return fd.err();
      }
      open.push_back({channel, *fd, sink});
    }
  }
  char buf[65536];
  while (!open.empty()) {
    std::vector<pollfd> fds;
    for (const auto& s : open) {
      fds.push_back({s.fd, static_cast<short>(s.sink != nullptr ? POLLIN : POLLOUT), 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return io("poll");
    }
    for (size_t i = fds.size(); i-- > 0;) {
      if (fds[i].revents == 0) {
        continue;
      }
      auto& s = open[i];
      if (s.sink == nullptr) {
        auto n = ::send(s.fd, input.data(), input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          continue;
        }
        // A process that stopped reading ends its stdin early: not an error.
        input.remove_prefix(n < 0 ? input.size() : static_cast<size_t>(n));
        if (input.empty()) {
          s.channel->close_write();
          open.erase(open.begin() + static_cast<long>(i));
        }
        continue;
      }
      auto n = s.channel->read(buf, sizeof buf);
      if (!n) {
        return n.err();
      }
      if (*n == 0) {
        open.erase(open.begin() + static_cast<long>(i));
      } else {
        s.sink->append(buf, *n);
      }
    }
  }
  return result;
}

void process_stdio::abort(const std::string& why) {
  for (auto* c : {in.get(), out.get(), err.get()}) {
    if (c != nullptr) {
      c->abort(why);
    }
  }
}

void process_stdio::close() {
  for (auto* c : {in.get(), out.get(), err.get()}) {
    if (c != nullptr) {
      c->close();
    }
  }
}

} // namespace uvm::bridge
