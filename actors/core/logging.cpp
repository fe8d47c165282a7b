#include "actors/core/logging.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace uvm::logging {

namespace {

std::atomic<format> current_format{format::human};
std::once_flag logger_once;

spdlog::level::level_enum to_spdlog(level l) {
  switch (l) {
  case level::trace:
    return spdlog::level::trace;
  case level::debug:
    return spdlog::level::debug;
  case level::info:
    return spdlog::level::info;
  case level::warn:
    return spdlog::level::warn;
  case level::error:
    return spdlog::level::err;
  case level::off:
    return spdlog::level::off;
  }
  return spdlog::level::info;
}

const char* level_name(level l) {
  switch (l) {
  case level::trace:
    return "trace";
  case level::debug:
    return "debug";
  case level::info:
    return "info";
  case level::warn:
    return "warning";
  case level::error:
    return "error";
  case level::off:
    return "off";
  }
  return "info";
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

spdlog::logger& engine_logger() {
  std::call_once(logger_once, [] {
    auto logger = spdlog::stderr_logger_mt("uvm");
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::warn);
  });
  return *spdlog::get("uvm");
}

} // namespace

void init(format fmt, level lvl) {
  current_format = fmt;
  engine_logger().set_level(to_spdlog(lvl));
}

level current_level() {
  switch (engine_logger().level()) {
  case spdlog::level::trace:
    return level::trace;
  case spdlog::level::debug:
    return level::debug;
  case spdlog::level::info:
    return level::info;
  case spdlog::level::warn:
    return level::warn;
  case spdlog::level::err:
  case spdlog::level::critical:
    return level::error;
  default:
    return level::off;
  }
}

bool parse_format(const std::string& name, format& out) {
  if (name == "human") {
    out = format::human;
  } else if (name == "json") {
    out = format::json;
  } else {
    return false;
  }
  return true;
}

bool parse_level(const std::string& name, level& out) {
  static const std::pair<const char*, level> names[] = {
      {"trace", level::trace}, {"debug", level::debug},  {"info", level::info},
      {"warn", level::warn},   {"warning", level::warn}, {"error", level::error},
      {"off", level::off}};
  for (const auto& [n, l] : names) {
    if (name == n) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string render(format fmt, level lvl, const context& ctx, std::string_view msg,
                   const nlohmann::json& fields) {
  if (fmt == format::json) {
    nlohmann::json line = nlohmann::json::object();
    line["time"] = utc_now();
    line["level"] = level_name(lvl);
    line["msg"] = msg;
    line["vm_id"] = ctx.vm_id;
    line["activity_id"] = ctx.activity_id;
    if (fields.is_object()) {
      for (auto it = fields.begin(); it != fields.end(); ++it) {
        line[it.key()] = it.value();
      }
    }
    return line.dump();
  }
  std::string out = std::string{level_name(lvl)} + " vm=" + (ctx.vm_id.empty() ? "-" : ctx.vm_id) +
                    " activity=" + (ctx.activity_id.empty() ? "-" : ctx.activity_id) + " " +
                    std::string{msg};
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      out += " " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  return out;
}

void log(level lvl, const context& ctx, std::string_view msg, const nlohmann::json& fields) {
  auto& logger = engine_logger();
  if (!logger.should_log(to_spdlog(lvl))) {
    return;
  }
  auto fmt = current_format.load();
  auto line = render(fmt, lvl, ctx, msg, fields);
  if (fmt == format::human) {
    line = utc_now() + " " + line;
  }
  logger.log(to_spdlog(lvl), line);
}

} // namespace uvm::logging
