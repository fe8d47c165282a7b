// libFuzzer target for what the QMP client reads: any byte stream, fed in
// chunks whose size the input chooses, splits into lines of bounded length,
// and every line is a reply, an event or ignored, never an exception. A
// reply's id and an event's name are the line's own.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "gojson/json_reader.hpp"
#include "hcs/qemu/qmp_reader.hpp"

using namespace uvm::hcs::qemu;

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// A small limit, so that the fuzzer reaches it.
constexpr size_t max_line = 4096;

void check_line(const std::string& line) {
  check(line.size() <= max_line);
  check(line.find('\n') == std::string::npos);
  auto m = parse_qmp_line(line);
  if (m.what == qmp_message::kind::ignored) {
    return;
  }
  auto msg = uvm::gojson::read_json(line);
  check(msg && msg->is_object());
  if (m.what == qmp_message::kind::event) {
    check((*msg)["event"] == m.event);
    return;
  }
  check((*msg)["id"].get<uint64_t>() == m.id);
  check(m.failed == msg->contains("error"));
  check(!m.failed || !m.error.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t chunk = 1 + data[0] % 128;
  const auto* bytes = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  qmp_line_splitter lines{max_line};
  size_t consumed = 0;
  for (size_t i = 0; i < n; i += chunk) {
    lines.feed(bytes + i, std::min(chunk, n - i));
    while (auto line = lines.next()) {
      check(!lines.failed());
      check(std::string(bytes + consumed, line->size()) == *line);
      check(bytes[consumed + line->size()] == '\n');
      consumed += line->size() + 1;
      check_line(*line);
    }
  }
  if (lines.failed()) {
    check(!lines.next());
  }
  return 0;
}
