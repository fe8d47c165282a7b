// The --bridge-log sink: one JSON line per bridge message, in the order
// they pass (direction "send" host->guest or "recv" guest->host, the
// message type, its id and its body). Shared by every VM of an engine;
// callable from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace uvm::bridge {

class frame_log {
public:
  using sink = std::function<void(const std::string& json_line)>;

  void set(sink s) {
    std::lock_guard<std::mutex> lock{mutex_};
    sink_ = std::move(s);
  }
  // Cheap when nobody listens: callers skip building bodies.
  bool active() const {
    std::lock_guard<std::mutex> lock{mutex_};
    return static_cast<bool>(sink_);
  }
  void write(const std::string& vm_id, const char* direction, const char* type, uint64_t id,
             const std::string& body);

private:
  mutable std::mutex mutex_;
  sink sink_;
};

} // namespace uvm::bridge
