// uvmd under systemd (Type=notify, sd_notify(3)): READY=1 once it listens,
// STATUS= lines, RELOADING=1 around a SIGHUP reload, STOPPING=1 when it
// stops, and WATCHDOG=1 pings while the watchdog is on. A ping follows a
// round trip to the engine's actors (`probe`), never a timer alone: an
// engine that stops answering stops the pings and systemd restarts uvmd.
// Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace uvm::uvmd {

class service_notifier {
public:
  // The number of VMs the engine's registry reported, or nothing when it
  // did not answer.
  using probe_fn = std::function<std::optional<size_t>()>;

  service_notifier() = default;
  ~service_notifier();
  service_notifier(const service_notifier&) = delete;
  service_notifier& operator=(const service_notifier&) = delete;

  void status(const std::string& text);
  // READY=1; then, when systemd set WATCHDOG_USEC for this process, pings
  // at half that interval after each successful probe.
  void ready(const std::string& address, probe_fn probe);
  void reloading(const std::string& text);
  void reloaded(const std::string& text);
  // STOPPING=1; ends the watchdog pings.
  void stopping(const std::string& text);

  // Half of WATCHDOG_USEC, or zero when the watchdog is off.
  std::chrono::microseconds watchdog_interval() const { return interval_; }

private:
  void watch();
  void stop_watch();

  std::string address_;
  probe_fn probe_;
  std::chrono::microseconds interval_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread watcher_;
};

} // namespace uvm::uvmd
