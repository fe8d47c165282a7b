#include "bridge/log_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace uvm::bridge {

log_reader::log_reader(io_loop& loop, std::shared_ptr<byte_stream> channel, output_handler handler)
    : loop_(loop), channel_(std::move(channel)), handler_(std::move(handler)) {}

log_reader::~log_reader() {
  end();
}

std::shared_ptr<log_reader> log_reader::start(io_loop& loop, std::shared_ptr<byte_stream> channel,
                                              output_handler handler) {
  auto r = std::make_shared<log_reader>(loop, channel, std::move(handler));
  // Weak: the channel holds its handlers until its end, the reader holds
  // the channel.
  std::weak_ptr<log_reader> weak = r;
  channel->start({[weak](std::string_view bytes) {
                    if (auto self = weak.lock()) {
                      self->deliver(bytes);
                    }
                  },
                  [weak](std::optional<std::string>) {
                    if (auto self = weak.lock()) {
                      self->end();
                    }
                  }});
  return r;
}

void log_reader::deliver(std::string_view bytes) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (!ended_ && !bytes.empty()) {
    handler_(bytes, false);
  }
}

void log_reader::end() {
  std::lock_guard<std::mutex> lock{mutex_};
  if (ended_) {
    return;
  }
  ended_ = true;
  auto handler = std::move(handler_);
  handler_ = {};
  handler({}, true);
}

void log_reader::stop() {
  end();
  channel_->shut();
}

bool log_reader::ended() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return ended_;
}

void log_reader::finish_within(std::chrono::milliseconds grace) {
  if (ended()) {
    return;
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(loop_.context(), grace);
  timer->async_wait(
      [self = shared_from_this(), timer](const boost::system::error_code&) { self->stop(); });
}

} // namespace uvm::bridge
