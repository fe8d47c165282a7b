// Jobs run one at a time, in order, on a thread of their own: the calls of
// one QEMU VM (QMP is one conversation), which therefore never complete
// inside their caller's call.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace uvm::hcs::qemu {

class serial_worker {
public:
  serial_worker() : thread_([this] { run(); }) {}
  ~serial_worker() { stop(); }
  void post(std::function<void()> job) {
    std::lock_guard<std::mutex> lock{mutex_};
    jobs_.push_back(std::move(job));
    wake_.notify_one();
  }
  // Runs what is queued, then ends the thread.
  void stop() {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      finish_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
      thread_.join();
    }
  }

private:
  void run() {
    std::unique_lock<std::mutex> lock{mutex_};
    for (;;) {
      wake_.wait(lock, [&] { return finish_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;
      }
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool finish_ = false;
  std::thread thread_;
};

} // namespace uvm::hcs::qemu
