#include "tools/uvmd/service_notifier.hpp"

#include <cstdint>

#include <systemd/sd-daemon.h>

#include "actors/core/logging.hpp"

namespace uvm::uvmd {

namespace {

void notify(const std::string& state) {
  // Errors are not fatal: a daemon outside systemd has no socket at all.
  sd_notify(0, state.c_str());
}

} // namespace

service_notifier::~service_notifier() {
  stop_watch();
}

void service_notifier::status(const std::string& text) {
  notify("STATUS=" + text);
}

void service_notifier::ready(const std::string& address, probe_fn probe) {
  address_ = address;
  probe_ = std::move(probe);
  notify("READY=1\nSTATUS=serving on " + address);
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    interval_ = std::chrono::microseconds{usec / 2};
    uvm::logging::info({}, "systemd watchdog on",
                       {{"interval_ms", interval_.count() / 1000}, {"timeout_ms", usec / 1000}});
    watcher_ = std::thread([this] { watch(); });
  }
}

void service_notifier::reloading(const std::string& text) {
  notify("RELOADING=1\nSTATUS=" + text);
}

void service_notifier::reloaded(const std::string& text) {
  notify("READY=1\nSTATUS=" + text);
}

void service_notifier::stopping(const std::string& text) {
  stop_watch();
  notify("STOPPING=1\nSTATUS=" + text);
}

void service_notifier::watch() {
  std::unique_lock<std::mutex> lock{mutex_};
  while (!stop_) {
    lock.unlock();
    auto vms = probe_();
    lock.lock();
    if (stop_) {
      break;
    }
    if (vms) {
      notify("WATCHDOG=1\nSTATUS=serving on " + address_ + ", " + std::to_string(*vms) + " VMs");
    } else {
      uvm::logging::warn({}, "the engine did not answer; systemd's watchdog not pinged");
    }
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

void service_notifier::stop_watch() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stop_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) {
    watcher_.join();
  }
}

} // namespace uvm::uvmd
