// The agent's own log, as hcsshim's Linux GCS writes it with
// `-log-format json`: one logrus JSON object per line ({"level":…,
// "msg":…, "time":…, fields…}, members sorted), to a channel the host reads
// beside the bridge (uvm-api.md §5.6 parses it there): a virtio-serial port
// "log" in a VM, a descriptor for an exec: agent, a memory stream for the
// in-process one.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace uvm::guest {

// logrus's levels, most severe first.
enum class log_level { panic, fatal, error, warning, info, debug, trace };

// logrus.ParseLevel's names ("warn" and "warning" are one level).
bool parse_log_level(const std::string& name, log_level& out);
const char* log_level_name(log_level l);

// One line with its '\n'. A field named time, level or msg is written as
// fields.time, fields.level, fields.msg, as logrus does.
std::string log_line(log_level l, std::string_view msg, const nlohmann::json& fields,
                     std::chrono::system_clock::time_point at);

class guest_log {
public:
  // Takes each line; called from any thread, one line per call.
  using write_fn = std::function<void(std::string line)>;

  guest_log(log_level max, write_fn write) : max_(max), write_(std::move(write)) {}

  bool enabled(log_level l) const { return l <= max_; }
  void log(log_level l, std::string_view msg,
           const nlohmann::json& fields = nlohmann::json::object()) const;

private:
  log_level max_;
  write_fn write_;
};

} // namespace uvm::guest
