#include "actors/core/guest_log.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>

#include "gojson/go_json.hpp"
#include "gojson/json_reader.hpp"

namespace uvm::logging {

namespace {

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Go's name for a JSON value's kind in an UnmarshalTypeError.
const char* go_kind(const nlohmann::json& v) {
  if (v.is_number()) {
    return "number";
  }
  if (v.is_boolean()) {
    return "bool";
  }
  if (v.is_array()) {
    return "array";
  }
  return v.is_object() ? "object" : "string";
}

std::string type_error(const nlohmann::json& v, const char* field, const char* go_type) {
  return std::string{"json: cannot unmarshal "} + go_kind(v) +
         " into Go struct field gcsLogEntryStandard." + field + " of type " + go_type;
}

// logrus.ParseLevel, then panic and fatal lowered to error.
std::optional<level> logrus_level(std::string name) {
  for (auto& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (name == "panic" || name == "fatal" || name == "error") {
    return level::error;
  }
  if (name == "warn" || name == "warning") {
    return level::warn;
  }
  if (name == "info") {
    return level::info;
  }
  if (name == "debug") {
    return level::debug;
  }
  if (name == "trace") {
    return level::trace;
  }
  return std::nullopt;
}

// The shape time.Time's JSON decoding accepts (RFC 3339):
// YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM).
bool rfc3339(std::string_view t) {
  auto digits = [&t](size_t at, size_t n) {
    if (t.size() < at + n) {
      return false;
    }
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(t[i]))) {
        return false;
      }
    }
    return true;
  };
  auto is = [&t](size_t at, char c) { return t.size() > at && t[at] == c; };
  if (!digits(0, 4) || !is(4, '-') || !digits(5, 2) || !is(7, '-') || !digits(8, 2) ||
      !(is(10, 'T') || is(10, 't')) || !digits(11, 2) || !is(13, ':') || !digits(14, 2) ||
      !is(16, ':') || !digits(17, 2)) {
    return false;
  }
  size_t at = 19;
  if (is(at, '.')) {
    ++at;
    size_t start = at;
    while (digits(at, 1)) {
      ++at;
    }
    if (at == start) {
      return false;
    }
  }
  if (is(at, 'Z') || is(at, 'z')) {
    return at + 1 == t.size();
  }
  return (is(at, '+') || is(at, '-')) && digits(at + 1, 2) && is(at + 3, ':') &&
         digits(at + 4, 2) && at + 6 == t.size();
}

// Go decodes every number as float64 and hcsshim turns the integral ones
// into int64: an integer too large for int64 stays floating-point.
void normalize_number(nlohmann::json& v) {
  constexpr double two_63 = 9223372036854775808.0;
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    v = static_cast<double>(v.get<uint64_t>());
  } else if (v.is_number_float()) {
    auto d = v.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && d >= -two_63 && d < two_63) {
      v = static_cast<int64_t>(d);
    }
  }
}

// Guest bytes as valid UTF-8 (each invalid byte becomes U+FFFD): the
// engine's JSON log lines cannot carry anything else.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; ok && k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // No overlong forms, surrogates or code points past U+10FFFF.
    ok = ok && !(n == 2 && cp < 0x80) && !(n == 3 && cp < 0x800) && !(n == 4 && cp < 0x10000) &&
         !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

} // namespace

guest_log_parser::guest_log_parser(std::string vm_id, emit_fn emit, size_t max_entry)
    : vm_id_(std::move(vm_id)), emit_(std::move(emit)), max_entry_(max_entry) {}

void guest_log_parser::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (text_mode_) {
      take_text(bytes);
      return;
    }
    scan_entry(bytes);
  }
}

// Takes bytes of the current entry up to its end (then decodes it), or
// fails at the first byte that cannot start an entry.
void guest_log_parser::scan_entry(std::string_view& bytes) {
  size_t i = 0;
  if (entry_.empty()) {
    while (i < bytes.size() && space(bytes[i])) {
      ++i;
    }
    if (i == bytes.size()) {
      bytes = {};
      return;
    }
    if (bytes[i] != '{') {
      bytes.remove_prefix(i);
      fail(std::string_view{"[\"-0123456789tfn"}.find(bytes[0]) != std::string_view::npos
               ? std::string{"a gcs log entry must be a JSON object"}
               : std::string{"invalid character '"} + bytes[0] +
                     "' looking for beginning of value");
      return;
    }
  }
  size_t start = i;
  bool complete = false;
  for (; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
    } else if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if ((c == '}' || c == ']') && --depth_ == 0) {
      ++i;
      complete = true;
      break;
    }
  }
  auto taken = bytes.substr(start, i - start);
  bytes.remove_prefix(i);
  if (entry_.size() + taken.size() > max_entry_) {
    auto room = max_entry_ - entry_.size();
    entry_.append(taken.substr(0, room));
    fail("gcs log entry longer than " + std::to_string(max_entry_) + " bytes");
    dropped_ += taken.size() - room;
    return;
  }
  entry_.append(taken);
  if (complete) {
    finish_entry();
  }
}

void guest_log_parser::finish_entry() {
  auto text = std::move(entry_);
  entry_.clear();
  depth_ = 0;
  auto value = gojson::read_json(text);
  if (!value) {
    auto why = gojson::go_syntax_error(text);
    entry_ = std::move(text); // a malformed entry is part of the text that follows
    fail(why.empty() ? "invalid JSON" : why);
    return;
  }
  guest_record r;
  std::string time = "0001-01-01T00:00:00Z"; // Go's zero time.Time
  if (auto* t = gojson::find_ci(*value, "time"); t != nullptr && !t->is_null()) {
    if (!t->is_string()) {
      fail(type_error(*t, "time", "time.Time"));
      return;
    }
    if (!rfc3339(t->get_ref<const std::string&>())) {
      fail("parsing time " + t->dump() + " as \"2006-01-02T15:04:05Z07:00\": not RFC 3339");
      return;
    }
    time = t->get<std::string>();
  }
  if (auto* l = gojson::find_ci(*value, "level"); l != nullptr && !l->is_null()) {
    auto parsed = l->is_string() ? logrus_level(l->get<std::string>()) : std::nullopt;
    if (!parsed) {
      fail(l->is_string() ? "not a valid logrus Level: " + l->dump()
                          : type_error(*l, "level", "logrus.Level"));
      return;
    }
    r.lvl = *parsed;
  }
  if (auto* m = gojson::find_ci(*value, "msg"); m != nullptr && !m->is_null()) {
    if (!m->is_string()) {
      fail(type_error(*m, "msg", "string"));
      return;
    }
    r.msg = m->get<std::string>();
  }
  value->erase("time");
  value->erase("level");
  value->erase("msg");
  for (auto& [key, field] : value->items()) {
    (void)key;
    normalize_number(field);
  }
  r.fields = std::move(*value);
  r.fields["uvm-id"] = vm_id_;
  r.fields["vm.time"] = time;
  emit_(std::move(r));
}

// A decode error: said once; what follows (from `entry_`, the entry that
// failed when it was malformed) is text.
void guest_log_parser::fail(const std::string& why) {
  guest_record r;
  r.lvl = level::error;
  r.msg = "gcs log read";
  r.fields = {{"uvm-id", vm_id_}, {"error", valid_utf8(why)}};
  r.from_guest = false;
  emit_(std::move(r));
  text_mode_ = true;
  auto held = std::move(entry_);
  entry_.clear();
  depth_ = 0;
  in_string_ = escaped_ = false;
  take_text(held);
}

void guest_log_parser::take_text(std::string_view bytes) {
  if (text_.empty()) {
    while (!bytes.empty() && space(bytes.front())) {
      bytes.remove_prefix(1);
    }
  }
  auto room = max_entry_ - text_.size();
  auto kept = std::min(room, bytes.size());
  text_.append(bytes.substr(0, kept));
  dropped_ += bytes.size() - kept;
}

void guest_log_parser::end() {
  if (!text_mode_ && !entry_.empty()) {
    // Go's decoder at an end of stream inside a value.
    auto why = gojson::go_syntax_error(entry_);
    fail(why.rfind("unexpected end", 0) == 0 || why.empty() ? "unexpected EOF" : why);
  }
  while (!text_.empty() && space(text_.back())) {
    text_.pop_back();
  }
  if (!text_.empty()) {
    guest_record r;
    r.lvl = level::error;
    r.msg = "gcs terminated";
    r.fields = {{"uvm-id", vm_id_}, {"stderr", valid_utf8(text_)}};
    r.from_guest = false;
    if (dropped_ > 0) {
      r.fields["stderr-dropped-bytes"] = dropped_;
    }
    emit_(std::move(r));
  }
  text_mode_ = false;
  entry_.clear();
  depth_ = 0;
  in_string_ = escaped_ = false;
  text_.clear();
  dropped_ = 0;
}

namespace {

// One stream's parser and the rate bound between it and the re-logging,
// in one allocation (a VM keeps one while its guest runs). While a flood
// lasts, the count of what was cut is said at most once a second, with an
// entry that passes.
struct limited_stream {
  static constexpr std::chrono::seconds report_interval{1};
  using relog_fn = std::function<void(const std::string& vm_id, guest_record)>;
  using clock_fn = std::function<log_rate_limit::clock::time_point()>;

  std::string vm_id;
  relog_fn relog;
  clock_fn now;
  log_rate_limit limit;
  log_rate_limit::clock::time_point last_report;
  guest_log_parser parser;

  limited_stream(std::string id, log_rate rate, relog_fn r, clock_fn n)
      : vm_id(std::move(id)), relog(std::move(r)), now(std::move(n)), limit(rate, now()),
        last_report(now()), parser(vm_id, [this](guest_record g) { pass(std::move(g)); }) {}

  void notice(const std::string& msg, nlohmann::json fields) {
    guest_record r;
    r.lvl = level::warn;
    r.msg = msg;
    r.fields = std::move(fields);
    r.fields["uvm-id"] = vm_id;
    r.from_guest = false;
    relog(vm_id, std::move(r));
  }
  void report_dropped(log_rate_limit::clock::time_point at) {
    last_report = at;
    if (auto n = limit.take_dropped()) {
      notice("gcs log entries dropped", {{"dropped", n}});
    }
  }
  void pass(guest_record r) {
    if (!r.from_guest) {
      relog(vm_id, std::move(r));
      return;
    }
    auto at = now();
    switch (limit.admit(at)) {
    case log_rate_limit::verdict::log:
      if (limit.dropped() > 0 && (!limit.limiting() || at - last_report >= report_interval)) {
        report_dropped(at);
      }
      relog(vm_id, std::move(r));
      break;
    case log_rate_limit::verdict::drop_first:
      notice("gcs log rate limit reached",
             {{"per-second", limit.rate().per_second}, {"burst", limit.rate().burst}});
      break;
    case log_rate_limit::verdict::drop:
      break;
    }
  }
  void operator()(std::string_view chunk, bool end) {
    if (end) {
      report_dropped(now());
      parser.end();
    } else {
      parser.feed(chunk);
    }
  }
};

output_handler limited_handler(const std::string& vm_id, log_rate rate,
                               limited_stream::relog_fn relog, limited_stream::clock_fn now) {
  auto stream = std::make_shared<limited_stream>(vm_id, rate, std::move(relog), std::move(now));
  return [stream](std::string_view chunk, bool end) { (*stream)(chunk, end); };
}

} // namespace

output_handler rate_limited_handler(const std::string& vm_id, log_rate rate,
                                    std::function<void(guest_record)> relog,
                                    std::function<log_rate_limit::clock::time_point()> now) {
  return limited_handler(
      vm_id, rate,
      [relog = std::move(relog)](const std::string&, guest_record r) { relog(std::move(r)); },
      std::move(now));
}

output_handler default_output_handler(const std::string& vm_id, log_rate rate) {
  return limited_handler(
      vm_id, rate,
      [](const std::string& id, guest_record r) {
        log(r.lvl, context{id, {}}, r.msg, r.fields);
      },
      [] { return log_rate_limit::clock::now(); });
}

} // namespace uvm::logging
