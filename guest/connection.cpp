#include "guest/connection.hpp"

#include "bridge/io.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include <unistd.h>

namespace uvm::guest {

namespace {

// One writer at a time. The answers the reading thread gives while it
// handles the frames of one read are written together after them: with
// pipelined requests that is one write for many responses.
class frame_writer {
public:
  explicit frame_writer(int fd) : fd_(fd), reader_(std::this_thread::get_id()) {}

  void send(uint32_t type, uint64_t id, const std::string& body) {
    std::lock_guard<std::mutex> lock{mutex_};
    bridge::append_frame(held_, type, id, body);
    if (!holding_ || std::this_thread::get_id() != reader_) {
      flush_locked();
    }
  }
  void hold() {
    std::lock_guard<std::mutex> lock{mutex_};
    holding_ = true;
  }
  void release() {
    std::lock_guard<std::mutex> lock{mutex_};
    holding_ = false;
    flush_locked();
  }

private:
  void flush_locked() {
    if (!failed_ && !held_.empty() && !bridge::write_fully(fd_, held_)) {
      failed_ = true; // the host is gone; the read side ends the connection
    }
    held_.clear();
  }

  int fd_;
  std::thread::id reader_;
  std::mutex mutex_;
  std::string held_;
  bool holding_ = false;
  bool failed_ = false;
};

// The agent's side of a stream. Responses given while it handles the
// frames of one delivery are written together after them, as above.
class stream_session {
public:
  stream_session(std::weak_ptr<bridge::byte_stream> stream, const service_options& opts,
                 std::shared_ptr<bridge::byte_stream> log_end)
      : stream_(std::move(stream)), log_end_(std::move(log_end)),
        svc_(opts,
             [this](uint32_t type, uint64_t id, const std::string& body) { send(type, id, body); }),
        warn_(opts.warn), log_(opts.log) {}

  // The host reads the channel's end; a line that a handler thread of the
  // service still writes after this is dropped.
  ~stream_session() {
    if (log_end_) {
      log_end_->shut();
    }
  }

  void on_bytes(std::string_view bytes) {
    decoder_.feed(bytes.data(), bytes.size());
    {
      std::lock_guard<std::mutex> lock{mutex_};
      holder_ = std::this_thread::get_id();
    }
    while (auto f = decoder_.next()) {
      svc_.handle(*f);
      if (svc_.stopping()) {
        end();
        return;
      }
    }
    flush();
    if (decoder_.failed()) {
      report(decoder_.error());
      end();
    }
  }

  void on_end(const std::optional<std::string>& failure) {
    auto why = failure ? *failure : decoder_.at_eof();
    if (!why.empty()) {
      report(why);
    }
  }

private:
  void send(uint32_t type, uint64_t id, const std::string& body) {
    std::lock_guard<std::mutex> lock{mutex_};
    bridge::append_frame(held_, type, id, body);
    if (holder_ != std::this_thread::get_id()) {
      flush_locked();
    }
  }
  void flush() {
    std::lock_guard<std::mutex> lock{mutex_};
    holder_ = {};
    flush_locked();
  }
  void flush_locked() {
    if (held_.empty()) {
      return;
    }
    if (auto s = stream_.lock()) {
      s->write(std::move(held_));
    }
    held_.clear();
  }
  void report(const std::string& why) {
    service_options o;
    o.warn = warn_;
    o.log = log_;
    warn(o, "bridge connection: " + why);
  }
  void end() {
    flush();
    if (auto s = stream_.lock()) {
      s->shut();
    }
  }

  // Weak: the stream owns this session through its handlers.
  std::weak_ptr<bridge::byte_stream> stream_;
  std::shared_ptr<bridge::byte_stream> log_end_;
  std::mutex mutex_;
  std::string held_;
  std::thread::id holder_; // the thread delivering, while it holds responses back
  bridge::frame_decoder decoder_{};
  service svc_;
  std::function<void(const std::string&)> warn_;
  std::shared_ptr<const guest_log> log_;
};

} // namespace

std::string serve_connection(int in_fd, int out_fd, const service_options& opts, bool* shut_down) {
  frame_writer writer{out_fd};
  service svc{opts, [&](uint32_t type, uint64_t id, const std::string& body) {
                writer.send(type, id, body);
              }};
  bridge::frame_decoder decoder{};
  char buf[65536];
  for (;;) {
    auto n = ::read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::string{"bridge read failed: "} + std::strerror(errno);
    }
    if (n == 0) {
      return decoder.at_eof();
    }
    decoder.feed(buf, static_cast<size_t>(n));
    writer.hold();
    while (auto f = decoder.next()) {
      svc.handle(*f);
      if (svc.stopping()) {
        writer.release();
        if (shut_down != nullptr) {
          *shut_down = true;
        }
        return {};
      }
    }
    writer.release();
    if (decoder.failed()) {
      return decoder.error();
    }
  }
}

} // namespace uvm::guest

namespace uvm::guest {

void serve_stream(std::shared_ptr<bridge::byte_stream> stream, const service_options& opts,
                  std::shared_ptr<bridge::byte_stream> log_end) {
  auto session = std::make_shared<stream_session>(stream, opts, std::move(log_end));
  stream->start({[session](std::string_view bytes) { session->on_bytes(bytes); },
                 [session](std::optional<std::string> failure) { session->on_end(failure); }});
}

} // namespace uvm::guest
