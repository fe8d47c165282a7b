#include "bridge/byte_stream.hpp"

#include <atomic>
#include <deque>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

namespace uvm::bridge {

namespace {

using strand = boost::asio::strand<boost::asio::io_context::executor_type>;

// What both kinds share: the handlers, touched on the strand only, and
// the end, reported once.
class stream_base : public byte_stream {
protected:
  explicit stream_base(io_loop& loop) : strand_(boost::asio::make_strand(loop.context())) {}

  // On the strand: the stream ended for `why`; the owner hears it once.
  void finish(std::optional<std::string> why) {
    if (ended_) {
      return;
    }
    ended_ = true;
    shut_.store(true);
    auto h = std::move(h_);
    h_ = {};
    if (h.on_end) {
      h.on_end(std::move(why));
    }
  }
  // On the strand: handlers released without a call.
  void release() {
    ended_ = true;
    h_ = {};
  }

  strand strand_;
  handlers h_;
  bool started_ = false;
  bool ended_ = false;
  std::atomic<bool> shut_{false};
};

// One end of a connection in memory. The first end made owns the second;
// the second refers to the first weakly, so a pair lives as long as its
// first end.
class pipe_end final : public stream_base, public std::enable_shared_from_this<pipe_end> {
public:
  explicit pipe_end(io_loop& loop) : stream_base(loop) {}

  ~pipe_end() override {
    if (!shut_.load()) {
      tell_peer_end();
    }
  }

  void pair_with(std::shared_ptr<pipe_end> second) {
    second->peer_ = weak_from_this();
    owned_peer_ = std::move(second);
  }

  void start(handlers h) override {
    boost::asio::post(strand_, [self = shared_from_this(), h = std::move(h)]() mutable {
      if (self->ended_) {
        return;
      }
      self->h_ = std::move(h);
      self->started_ = true;
      auto early = std::move(self->early_);
      self->early_.clear();
      for (auto& bytes : early) {
        if (self->shut_.load()) {
          return;
        }
        self->h_.on_bytes(bytes);
      }
      if (self->peer_ended_) {
        self->finish(std::nullopt);
      }
    });
  }

  bool write(std::string bytes) override {
    auto p = peer();
    if (shut_.load() || !p) {
      return false;
    }
    boost::asio::post(p->strand_,
                      [p, bytes = std::move(bytes)]() mutable { p->receive(std::move(bytes)); });
    return true;
  }

  void shut() override {
    if (shut_.exchange(true)) {
      return;
    }
    boost::asio::post(strand_, [self = shared_from_this()] { self->release(); });
    tell_peer_end();
  }

private:
  std::shared_ptr<pipe_end> peer() const { return owned_peer_ ? owned_peer_ : peer_.lock(); }

  void tell_peer_end() {
    if (auto p = peer()) {
      boost::asio::post(p->strand_, [p] { p->peer_closed(); });
    }
  }

  // On the strand.
  void receive(std::string bytes) {
    if (ended_ || shut_.load()) {
      return;
    }
    if (!started_) {
      early_.push_back(std::move(bytes));
      return;
    }
    h_.on_bytes(bytes);
  }
  void peer_closed() {
    if (!started_) {
      peer_ended_ = true;
      return;
    }
    finish(std::nullopt);
  }

  std::shared_ptr<pipe_end> owned_peer_;
  std::weak_ptr<pipe_end> peer_;
  std::vector<std::string> early_;
  bool peer_ended_ = false;
};

// The host's end of a socket or pipe to a guest.
class fd_end final : public stream_base, public std::enable_shared_from_this<fd_end> {
public:
  fd_end(io_loop& loop, int fd) : stream_base(loop), fd_(strand_, fd) {
    boost::system::error_code ignored;
    fd_.non_blocking(true, ignored);
  }

  void start(handlers h) override {
    boost::asio::post(strand_, [self = shared_from_this(), h = std::move(h)]() mutable {
      if (self->ended_) {
        return;
      }
      self->h_ = std::move(h);
      self->started_ = true;
      self->read_more();
    });
  }

  bool write(std::string bytes) override {
    if (shut_.load()) {
      return false;
    }
    boost::asio::post(strand_, [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
      self->queue(std::move(bytes));
    });
    return true;
  }

  void shut() override {
    if (shut_.exchange(true)) {
      return;
    }
    boost::asio::post(strand_, [self = shared_from_this()] {
      self->release();
      // The peer sees end of stream; reads and writes in flight end.
      ::shutdown(self->fd_.native_handle(), SHUT_RDWR);
      boost::system::error_code ignored;
      self->fd_.cancel(ignored);
    });
  }

private:
  static constexpr size_t read_size = 65536;

  void read_more() {
    if (!buffer_) {
      buffer_ = std::make_unique<char[]>(read_size);
    }
    fd_.async_read_some(boost::asio::buffer(buffer_.get(), read_size),
                        [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                          self->on_read(ec, n);
                        });
  }

  void on_read(boost::system::error_code ec, size_t n) {
    if (ended_) {
      return;
    }
    if (ec == boost::asio::error::eof) {
      finish(std::nullopt);
      return;
    }
    if (ec == boost::asio::error::connection_reset) {
      finish("the guest closed the connection (reset)");
      return;
    }
    if (ec) {
      finish("bridge read failed: " + ec.message());
      return;
    }
    h_.on_bytes(std::string_view{buffer_.get(), n});
    if (!ended_) {
      read_more();
    }
  }

  void queue(std::string bytes) {
    if (ended_) {
      return;
    }
    queued_ += bytes.size();
    out_.push_back(std::move(bytes));
    if (queued_ > max_queued_bytes) {
      finish("bridge write: the guest reads nothing (" + std::to_string(queued_ >> 20) +
             " MiB queued)");
      return;
    }
    if (!writing_) {
      write_next();
    }
  }

  void write_next() {
    writing_ = true;
    boost::asio::async_write(fd_, boost::asio::buffer(out_.front()),
                             [self = shared_from_this()](boost::system::error_code ec, size_t) {
                               self->on_written(ec);
                             });
  }

  void on_written(boost::system::error_code ec) {
    writing_ = false;
    if (ended_) {
      return;
    }
    if (ec) {
      finish("bridge write: " + ec.message());
      return;
    }
    queued_ -= out_.front().size();
    out_.pop_front();
    if (!out_.empty()) {
      write_next();
    }
  }

  boost::asio::posix::stream_descriptor fd_;
  std::unique_ptr<char[]> buffer_;
  std::deque<std::string> out_;
  size_t queued_ = 0;
  bool writing_ = false;
};

} // namespace

std::shared_ptr<byte_stream> fd_stream(io_loop& loop, int fd) {
  return std::make_shared<fd_end>(loop, fd);
}

std::pair<std::shared_ptr<byte_stream>, std::shared_ptr<byte_stream>> memory_pipe(io_loop& loop) {
  auto first = std::make_shared<pipe_end>(loop);
  auto second = std::make_shared<pipe_end>(loop);
  first->pair_with(second);
  return {first, second};
}

} // namespace uvm::bridge
