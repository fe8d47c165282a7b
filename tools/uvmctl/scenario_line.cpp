#include "tools/uvmctl/scenario_line.hpp"

#include <algorithm>
#include <cstring>
#include <ios>

#include "tools/uvmctl/json_fields.hpp"

namespace uvm::cli {

namespace {

using nlohmann::json;

constexpr size_t chunk_bytes = 64 * 1024;

// True when brackets outside strings nest deeper than `limit`, up to a NUL,
// where the parser takes the input to end. Checked before parsing, so that
// no parser (and no recursive walk of the value afterwards) ever sees
// deeper input.
bool nested_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '\0') {
      return false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return true;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

error invalid_line(const std::string& why) {
  return error{errc::bad_request, "invalid scenario line: " + why};
}

} // namespace

line_reader::line_reader(std::istream& in, size_t max_bytes)
    : in_(in), max_(max_bytes), buffer_(chunk_bytes) {}

// Takes what the stream has buffered, or waits for one byte: a line that
// arrives on a pipe is answered before the next one is written.
bool line_reader::fill() {
  auto* sb = in_.rdbuf();
  try {
    std::streamsize avail = sb->in_avail();
    if (avail > 0) {
      auto want = std::min<std::streamsize>(avail, static_cast<std::streamsize>(buffer_.size()));
      end_ = static_cast<size_t>(sb->sgetn(buffer_.data(), want));
    } else {
      auto c = sb->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        in_.setstate(std::ios::eofbit);
        return false;
      }
      buffer_[0] = std::char_traits<char>::to_char_type(c);
      end_ = 1;
    }
  } catch (const std::ios_base::failure&) {
    // libstdc++'s file buffer throws on a read error (e.g. a directory).
    in_.setstate(std::ios::badbit);
    return false;
  }
  pos_ = 0;
  return end_ > 0;
}

line_reader::status line_reader::next(std::string& line) {
  line.clear();
  length_ = 0;
  bool any = false;
  for (;;) {
    if (pos_ == end_ && !fill()) {
      if (!any) {
        return status::end;
      }
      break;
    }
    any = true;
    const char* start = buffer_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    size_t n = nl ? static_cast<size_t>(nl - start) : end_ - pos_;
    if (length_ + n <= max_) {
      line.append(start, n);
    }
    length_ += n;
    pos_ += n;
    if (nl) {
      ++pos_;
      break;
    }
  }
  ++number_;
  if (length_ > max_) {
    line.clear();
    return status::too_long;
  }
  return status::line;
}

std::string line_too_long(const line_reader& r) {
  return "invalid scenario line: line " + std::to_string(r.number()) + " has " +
         std::to_string(r.length()) + " bytes, more than the limit of " +
         std::to_string(r.max_bytes());
}

bool blank_line(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

result<json> parse_scenario_line(std::string_view text) {
  if (nested_deeper_than(text, max_line_depth)) {
    return invalid_line("JSON nested deeper than " + std::to_string(max_line_depth) + " levels");
  }
  json line;
  try {
    line = json::parse(text);
  } catch (const json::parse_error& e) {
    return invalid_line("not a JSON object (syntax error at byte " + std::to_string(e.byte) + ")");
  } catch (const json::out_of_range&) {
    // nlohmann's parser throws this one for a number beyond double's range.
    return invalid_line("not a JSON object (a number beyond the range of a double)");
  }
  if (!line.is_object()) {
    return invalid_line("not a JSON object (" + describe_json(line) + ")");
  }
  return line;
}

error check_line_members(const json& line) {
  field_reader r{line};
  if (!r.has("op")) {
    return error{errc::bad_request, "missing string argument \"op\""};
  }
  for (const char* name : {"op", "vm", "activity_id"}) {
    r.text(name);
  }
  return r.err();
}

} // namespace uvm::cli
