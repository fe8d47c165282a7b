#include "hcs/executor.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace uvm::hcs {

namespace {

// The io_context and its threads live apart from the executor handle so that
// a handle released by one of its own tasks can hand the join to another
// thread instead of joining itself.
struct thread_pool {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  // Unused but for this: making a timer makes the io_context's own
  // descriptors now rather than at the first delayed task, so the
  // engine's descriptor count is flat from the start.
  boost::asio::steady_timer early{io};
  std::vector<std::thread> threads;

  void join_all() {
    for (auto& thread : threads) {
      thread.join();
    }
  }
};

thread_local const thread_pool* current_pool = nullptr;

class thread_executor final : public executor {
public:
  explicit thread_executor(int threads) : pool_(std::make_unique<thread_pool>()) {
    for (int i = 0; i < std::max(threads, 1); ++i) {
      pool_->threads.emplace_back([pool = pool_.get()] {
        current_pool = pool;
        pool->io.run();
      });
    }
  }

  // Stops at once: tasks not yet run are destroyed with the io_context,
  // never run.
  ~thread_executor() override {
    pool_->io.stop();
    if (current_pool == pool_.get()) {
      std::thread([pool = std::move(pool_)] { pool->join_all(); }).detach();
      return;
    }
    pool_->join_all();
  }

  void post_after(std::chrono::microseconds delay, std::function<void()> fn) override {
    if (delay.count() <= 0) {
      boost::asio::post(pool_->io, std::move(fn));
      return;
    }
    // The timer owns itself through its handler until it fires or the
    // io_context is destroyed.
    auto timer = std::make_shared<boost::asio::steady_timer>(pool_->io, delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& error) {
      if (!error) {
        fn();
      }
    });
  }

private:
  std::unique_ptr<thread_pool> pool_;
};

} // namespace

std::shared_ptr<executor> make_thread_executor(int threads) {
  return std::make_shared<thread_executor>(threads);
}

struct manual_executor::impl {
  using key = std::pair<std::chrono::microseconds, uint64_t>; // due time, then FIFO

  mutable std::mutex mutex;
  std::map<key, std::function<void()>> tasks;
  std::chrono::microseconds now{0};
  uint64_t next_seq = 0;

  // Runs the earliest task if it is due by `limit`, outside the lock so the
  // task may post more.
  bool run_one(std::chrono::microseconds limit) {
    std::unique_lock<std::mutex> lock(mutex);
    if (tasks.empty() || tasks.begin()->first.first > limit) {
      return false;
    }
    auto node = tasks.extract(tasks.begin());
    now = std::max(now, node.key().first);
    lock.unlock();
    node.mapped()();
    return true;
  }
};

manual_executor::manual_executor() : impl_(std::make_unique<impl>()) {}

manual_executor::~manual_executor() = default;

void manual_executor::post_after(std::chrono::microseconds delay, std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto due = impl_->now + std::max(delay, std::chrono::microseconds{0});
  impl_->tasks.emplace(impl::key{due, impl_->next_seq++}, std::move(fn));
}

std::size_t manual_executor::run_ready() {
  const auto limit = now();
  std::size_t ran = 0;
  while (impl_->run_one(limit)) {
    ++ran;
  }
  return ran;
}

std::size_t manual_executor::advance(std::chrono::microseconds dt) {
  const auto target = now() + dt;
  std::size_t ran = 0;
  while (impl_->run_one(target)) {
    ++ran;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->now = std::max(impl_->now, target);
  return ran;
}

std::size_t manual_executor::run_all() {
  std::size_t ran = 0;
  while (impl_->run_one(std::chrono::microseconds::max())) {
    ++ran;
  }
  return ran;
}

std::size_t manual_executor::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->tasks.size();
}

std::chrono::microseconds manual_executor::now() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->now;
}

} // namespace uvm::hcs
