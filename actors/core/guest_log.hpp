// The guest's log stream as hcsshim's default output handler reads it
// (uvm-api.md §5.6): a stream of JSON objects in logrus's shape
// ({"time":…, "level":…, "msg":…, other fields…}), each re-logged on the
// host with the VM's id. Incremental: fed the bytes as they arrive, it
// never blocks and never waits for more than it was given.
//
// Each entry: level defaults to info, panic and fatal are lowered to error;
// time, level and msg leave the fields; an integral floating-point field
// becomes an integer; fields "uvm-id" and "vm.time" are added. The first
// entry that cannot be decoded (malformed JSON, not an object, a level or
// time logrus would refuse, an end of stream inside an entry) is logged as
// "gcs log read" with its error; from there on the stream is text (a
// guest's panic stack, say), logged once at its end as "gcs terminated"
// with field "stderr" when it is not blank.
//
// Bounded: an entry longer than max_entry bytes is a decode error ("gcs
// log entry longer than N bytes"), and the text after an error keeps its
// first max_entry bytes; what is dropped is counted in the field
// "stderr-dropped-bytes". The parser holds at most max_entry bytes.
//
// Rate-bounded (not in hcsshim): the default handler re-logs the guest's
// own entries at most as fast as a log_rate allows (log_rate_limit.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/core/log_rate_limit.hpp"
#include "actors/core/logging.hpp"
#include "messages/options.hpp"

namespace uvm::logging {

// One line to log on the host.
struct guest_record {
  level lvl = level::info;
  std::string msg;
  nlohmann::json fields = nlohmann::json::object();
  // False for the parser's own reports ("gcs log read", "gcs terminated"):
  // at most one of each per stream, so no rate bound applies to them.
  bool from_guest = true;
};

class guest_log_parser {
public:
  static constexpr size_t default_max_entry = 256 * 1024;
  using emit_fn = std::function<void(guest_record)>;

  guest_log_parser(std::string vm_id, emit_fn emit, size_t max_entry = default_max_entry);

  // The next bytes of the stream; each complete entry is emitted at once.
  void feed(std::string_view bytes);
  // The stream ended: what is left is reported, and the parser is ready
  // for a new stream (a restarted VM's).
  void end();
  // True once a decode error turned the rest of the stream into text.
  bool reading_text() const { return text_mode_; }

private:
  void scan_entry(std::string_view& bytes);
  void finish_entry();
  void fail(const std::string& why);
  void take_text(std::string_view bytes);

  std::string vm_id_;
  emit_fn emit_;
  size_t max_entry_;
  bool text_mode_ = false;
  // The entry being read, from its '{'; empty between entries.
  std::string entry_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  // After an error: the text kept so far and the bytes dropped past it.
  std::string text_;
  uint64_t dropped_ = 0;
};

// The parser above, each record passed to `relog`, the guest's own entries
// at most as fast as `rate` allows. When it starts refusing it says so
// once ("gcs log rate limit reached", a warning); how many it refused is
// said at the next entry it passes, or at the end of the stream ("gcs log
// entries dropped", field "dropped").
output_handler rate_limited_handler(const std::string& vm_id, log_rate rate,
                                    std::function<void(guest_record)> relog,
                                    std::function<log_rate_limit::clock::time_point()> now);

// The default OutputHandler of a VM: the handler above, re-logging through
// the engine's logger with `vm_id` as the line's VM.
output_handler default_output_handler(const std::string& vm_id, log_rate rate);

} // namespace uvm::logging
