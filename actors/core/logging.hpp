// Structured logging for the engine: every line names the VM and the
// activity it belongs to. Human lines by default, JSON lines on request.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace uvm::logging {

enum class format { human, json };
enum class level { trace, debug, info, warn, error, off };

// Configures the process-wide engine logger (stderr). Safe to call again.
void init(format fmt, level lvl);
bool parse_format(const std::string& name, format& out);
// The engine logger's level now (what an agent it starts should log).
level current_level();
bool parse_level(const std::string& name, level& out);

struct context {
  std::string vm_id;
  std::string activity_id;
};

void log(level lvl, const context& ctx, std::string_view msg,
         const nlohmann::json& fields = nlohmann::json::object());

inline void debug(const context& c, std::string_view m,
                  const nlohmann::json& f = nlohmann::json::object()) {
  log(level::debug, c, m, f);
}
inline void info(const context& c, std::string_view m,
                 const nlohmann::json& f = nlohmann::json::object()) {
  log(level::info, c, m, f);
}
inline void warn(const context& c, std::string_view m,
                 const nlohmann::json& f = nlohmann::json::object()) {
  log(level::warn, c, m, f);
}
inline void error(const context& c, std::string_view m,
                  const nlohmann::json& f = nlohmann::json::object()) {
  log(level::error, c, m, f);
}

// Renders one line as the logger would (without timestamp for human lines);
// exposed for tests.
std::string render(format fmt, level lvl, const context& ctx, std::string_view msg,
                   const nlohmann::json& fields);

} // namespace uvm::logging
