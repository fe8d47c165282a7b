#include "guest/log.hpp"

#include <cctype>
#include <ctime>

namespace uvm::guest {

namespace {

constexpr std::pair<const char*, log_level> names[] = {
    {"panic", log_level::panic},     {"fatal", log_level::fatal},  {"error", log_level::error},
    {"warning", log_level::warning}, {"warn", log_level::warning}, {"info", log_level::info},
    {"debug", log_level::debug},     {"trace", log_level::trace}};

// RFC 3339 with nanoseconds, UTC (Go's time.RFC3339Nano drops trailing
// zeros; the host accepts either).
std::string rfc3339_nano(std::chrono::system_clock::time_point at) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char day[32];
  std::strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%09lldZ", day, static_cast<long long>(ns % 1000000000));
  return out;
}

} // namespace

bool parse_log_level(const std::string& name, log_level& out) {
  std::string lower = name;
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const auto& [n, l] : names) {
    if (lower == n) {
      out = l;
      return true;
    }
  }
  return false;
}

const char* log_level_name(log_level l) {
  for (const auto& [n, level] : names) {
    if (level == l) {
      return n;
    }
  }
  return "info";
}

std::string log_line(log_level l, std::string_view msg, const nlohmann::json& fields,
                     std::chrono::system_clock::time_point at) {
  nlohmann::json line = nlohmann::json::object();
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) {
      bool reserved = key == "time" || key == "level" || key == "msg";
      line[reserved ? "fields." + key : key] = value;
    }
  }
  line["level"] = log_level_name(l);
  line["msg"] = std::string{msg};
  line["time"] = rfc3339_nano(at);
  // Text from processes or the host may not be UTF-8: replaced, not thrown.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void guest_log::log(log_level l, std::string_view msg, const nlohmann::json& fields) const {
  if (enabled(l) && write_) {
    write_(log_line(l, msg, fields, std::chrono::system_clock::now()));
  }
}

} // namespace uvm::guest
