#include "hcs/qemu/qmp_client.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hcs/qemu/qmp_reader.hpp"

namespace uvm::hcs::qemu {

namespace {

constexpr size_t event_history = 256;

error qmp_failure(const std::string& text) {
  return error{errc::hcs_failure, text};
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

result<std::unique_ptr<qmp_client>> qmp_client::connect(const std::string& path,
                                                        std::chrono::milliseconds timeout,
                                                        const std::function<bool()>& alive,
                                                        close_handler on_close) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return qmp_failure("QMP socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "not tried";
  for (;;) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return qmp_failure(std::string{"socket: "} + std::strerror(errno));
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::unique_ptr<qmp_client> client{new qmp_client(fd, std::move(on_close))};
      auto r = client->execute("qmp_capabilities", nlohmann::json::object(), timeout);
      if (!r) {
        return qmp_failure("QMP negotiation on " + path + ": " + r.err().text);
      }
      return client;
    }
    last = std::strerror(errno);
    ::close(fd);
    if (!alive()) {
      return qmp_failure("QEMU exited before its QMP socket " + path + " accepted");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return qmp_failure("QMP socket " + path + " did not accept: " + last);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

qmp_client::qmp_client(int fd, close_handler on_close) : fd_(fd), on_close_(std::move(on_close)) {
  reader_ = std::thread([this] { read_loop(); });
}

qmp_client::~qmp_client() {
  shut();
  if (reader_.joinable()) {
    reader_.join();
  }
  ::close(fd_);
}

void qmp_client::shut() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    shut_ = true;
  }
  ::shutdown(fd_, SHUT_RDWR);
}

void qmp_client::read_loop() {
  qmp_line_splitter lines;
  char chunk[65536];
  std::string why = "QEMU closed the QMP connection";
  for (;;) {
    auto n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n < 0) {
        why = std::string{"QMP read: "} + std::strerror(errno);
      }
      break;
    }
    lines.feed(chunk, static_cast<size_t>(n));
    while (auto line = lines.next()) {
      on_line(*line);
    }
    if (lines.failed()) {
      why = lines.error();
      break;
    }
  }
  fail_all(why);
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    notify = !shut_;
  }
  if (notify && on_close_) {
    on_close_(why);
  }
}

void qmp_client::on_line(const std::string& line) {
  auto msg = parse_qmp_line(line);
  std::lock_guard<std::mutex> lock{mutex_};
  switch (msg.what) {
  case qmp_message::kind::ignored:
    return; // the greeting, or not QMP: not ours to answer
  case qmp_message::kind::event:
    events_.push_back({next_event_++, std::move(msg.event), std::move(msg.value)});
    if (events_.size() > event_history) {
      events_.pop_front();
    }
    break;
  case qmp_message::kind::reply: {
    auto it = replies_.find(msg.id);
    if (it == replies_.end()) {
      return; // its caller gave up waiting
    }
    it->second = msg.failed ? result<nlohmann::json>{qmp_failure(msg.error)}
                            : result<nlohmann::json>{std::move(msg.value)};
    break;
  }
  }
  changed_.notify_all();
}

void qmp_client::fail_all(const std::string& why) {
  std::lock_guard<std::mutex> lock{mutex_};
  closed_ = why;
  changed_.notify_all();
}

result<nlohmann::json> qmp_client::execute(const std::string& command,
                                           const nlohmann::json& arguments,
                                           std::chrono::milliseconds timeout) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (closed_) {
      return qmp_failure(command + ": " + *closed_);
    }
    id = next_id_++;
    replies_[id];
  }
  nlohmann::json msg = {{"execute", command}, {"id", id}};
  if (!arguments.empty()) {
    msg["arguments"] = arguments;
  }
  bool sent = write_all(fd_, msg.dump() + "\n");
  std::unique_lock<std::mutex> lock{mutex_};
  auto& slot = replies_[id];
  if (sent) {
    changed_.wait_for(lock, timeout, [&] { return slot.has_value() || closed_.has_value(); });
  }
  auto out = slot.has_value() ? std::move(*slot)
             : closed_        ? result<nlohmann::json>{qmp_failure(command + ": " + *closed_)}
             : sent           ? result<nlohmann::json>{qmp_failure(command + ": no answer within " +
                                                                   std::to_string(timeout.count()) + " ms")}
                              : result<nlohmann::json>{qmp_failure(command + ": QMP write failed")};
  replies_.erase(id);
  return out;
}

bool qmp_client::closed() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return closed_.has_value() || shut_;
}

uint64_t qmp_client::next_event() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return next_event_;
}

result<qmp_client::event>
qmp_client::wait_event(const std::string& name, uint64_t since,
                       const std::function<bool(const nlohmann::json&)>& match,
                       std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mutex_};
  std::optional<event> found;
  auto look = [&] {
    for (const auto& e : events_) {
      if (e.sequence >= since && e.name == name && match(e.data)) {
        found = e;
        return true;
      }
    }
    return closed_.has_value();
  };
  changed_.wait_for(lock, timeout, look);
  if (found) {
    return *found;
  }
  return qmp_failure(
      "waiting for " + name + ": " +
      (closed_ ? *closed_ : "none within " + std::to_string(timeout.count()) + " ms"));
}

} // namespace uvm::hcs::qemu
