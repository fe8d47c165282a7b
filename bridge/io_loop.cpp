#include "bridge/io_loop.hpp"

#include <algorithm>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bridge/io.hpp"

namespace uvm::bridge {

struct io_loop::work {
  explicit work(boost::asio::io_context& c) : guard(boost::asio::make_work_guard(c)), timer(c) {}
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
  // Unused but for this: making a timer makes the loop's own descriptors
  // (epoll, its wake-up, its timer) now rather than at the first
  // connection, so the engine's descriptor count is flat from the start.
  boost::asio::steady_timer timer;
};

io_loop::io_loop(unsigned threads)
    : context_(std::make_unique<boost::asio::io_context>(static_cast<int>(threads))),
      work_(std::make_unique<work>(*context_)) {
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) {
    threads_.emplace_back([this] {
      // Writes to pipes (an exec: agent's) fail with EPIPE, never SIGPIPE.
      block_sigpipe_on_this_thread();
      context_->run();
    });
  }
}

io_loop::~io_loop() {
  work_.reset();
  context_->stop();
  for (auto& t : threads_) {
    t.join();
  }
  context_.reset();
}

} // namespace uvm::bridge
