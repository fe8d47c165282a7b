// Reading a scenario (`uvmctl run`): lines of bounded length, each one JSON
// object of bounded nesting. A line over the limit is skipped to its end
// without being kept, so a 1 GB line costs no more memory than the limit;
// the runner reports it and goes on with the next line. Pure: reads only
// the stream it is given.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"

namespace uvm::cli {

// The longest scenario line, in bytes (its newline not counted).
constexpr size_t max_line_bytes = size_t{1} << 20;
// The deepest nesting of arrays and objects in a line (hcs::max_json_depth).
constexpr int max_line_depth = 512;

class line_reader {
public:
  enum class status { line, too_long, end };

  explicit line_reader(std::istream& in, size_t max_bytes = max_line_bytes);

  // The next line without its newline (a last line may lack one), or
  // too_long (`line` left empty), or the end of the input. A read error
  // ends the input with the stream's badbit set.
  status next(std::string& line);
  // The 1-based number of the line next() returned last.
  size_t number() const { return number_; }
  // Its length in bytes, also when it was too long.
  uint64_t length() const { return length_; }
  size_t max_bytes() const { return max_; }

private:
  bool fill();

  std::istream& in_;
  size_t max_;
  std::vector<char> buffer_;
  size_t pos_ = 0;
  size_t end_ = 0;
  size_t number_ = 0;
  uint64_t length_ = 0;
};

// The error a too-long line gets.
std::string line_too_long(const line_reader& r);

// True when the line holds only blanks (the runner skips it).
bool blank_line(std::string_view text);

// The line's JSON object: nesting beyond max_line_depth, a syntax error or
// another JSON value is an error.
result<nlohmann::json> parse_scenario_line(std::string_view text);
// What every op relies on: "op" is a string, "vm" and "activity_id" are
// strings when present.
error check_line_members(const nlohmann::json& line);

} // namespace uvm::cli
