// Reading QMP (QEMU Machine Protocol): QEMU writes one JSON object a line,
// the greeting {"QMP":{...}}, replies {"return":...,"id":N} or
// {"error":{"class","desc"},"id":N}, and events {"event":NAME,"data":{...}}.
// A line is bounded in length and nesting; a line that is not a well-formed
// message is ignored, as the client ignores anything that is not its own.
// Pure: the client's reader thread feeds it the bytes it reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace uvm::hcs::qemu {

// QEMU's largest answers (query-qmp-schema) are a few hundred KiB.
constexpr size_t max_qmp_line = size_t{16} << 20;

struct qmp_message {
  enum class kind { ignored, reply, event };
  kind what = kind::ignored;
  uint64_t id = 0;      // reply: the id of the command it answers
  bool failed = false;  // reply: an error
  std::string error;    // reply: "<class>: <desc>" when failed
  std::string event;    // event: its name
  nlohmann::json value; // reply: the "return" value; event: its "data"
};

// One line (without its newline).
qmp_message parse_qmp_line(std::string_view line);

// Splits the byte stream into lines.
class qmp_line_splitter {
public:
  explicit qmp_line_splitter(size_t max_line = max_qmp_line) : max_(max_line) {}
  void feed(const char* data, size_t size);
  // The next complete line, or nothing yet. After a line longer than the
  // limit it yields nothing more: failed() says why.
  std::optional<std::string> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

private:
  size_t max_;
  std::string buffer_;
  size_t start_ = 0;   // where the next line begins
  size_t scanned_ = 0; // bytes known to hold no newline
  std::string error_;
};

} // namespace uvm::hcs::qemu
