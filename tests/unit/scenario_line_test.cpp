// Reading scenario lines: bounded length (a longer line is skipped to its
// end without being kept), bounded nesting, and the members every op
// relies on.
#include "tools/uvmctl/scenario_line.hpp"

#include <sstream>
#include <streambuf>
#include <string>

#include <catch2/catch.hpp>

using nlohmann::json;
using namespace uvm::cli;
using status = line_reader::status;

namespace {

// `size` bytes of 'a' and then `tail`, made as they are read: nothing holds
// the long line.
class long_line_buffer : public std::streambuf {
public:
  long_line_buffer(uint64_t size, std::string tail) : left_(size), tail_(std::move(tail)) {}
  uint64_t produced() const { return produced_; }

protected:
  int_type underflow() override {
    if (left_ > 0) {
      auto n = static_cast<size_t>(std::min<uint64_t>(left_, sizeof chunk_));
      std::fill(chunk_, chunk_ + n, 'a');
      left_ -= n;
      produced_ += n;
      setg(chunk_, chunk_, chunk_ + n);
      return traits_type::to_int_type(chunk_[0]);
    }
    if (!tail_done_) {
      tail_done_ = true;
      setg(tail_.data(), tail_.data(), tail_.data() + tail_.size());
      return tail_.empty() ? traits_type::eof() : traits_type::to_int_type(tail_[0]);
    }
    return traits_type::eof();
  }

private:
  uint64_t left_;
  uint64_t produced_ = 0;
  std::string tail_;
  bool tail_done_ = false;
  char chunk_[8192];
};

} // namespace

TEST_CASE("line_reader returns lines with their numbers", "[scenario_line]") {
  std::istringstream in("one\n\ntwo\r\nthree");
  line_reader r{in};
  std::string line;
  REQUIRE(r.next(line) == status::line);
  CHECK(line == "one");
  CHECK(r.number() == 1);
  REQUIRE(r.next(line) == status::line);
  CHECK(line.empty());
  CHECK(r.number() == 2);
  REQUIRE(r.next(line) == status::line);
  CHECK(line == "two\r");
  CHECK(blank_line("\r \t"));
  CHECK_FALSE(blank_line("two\r"));
  REQUIRE(r.next(line) == status::line);
  CHECK(line == "three");
  CHECK(r.number() == 4);
  CHECK(r.next(line) == status::end);
  CHECK(r.next(line) == status::end);
}

TEST_CASE("line_reader keeps a line of exactly the limit and skips a longer one",
          "[scenario_line]") {
  std::string at_limit(100, 'x');
  std::istringstream in(at_limit + "\n" + at_limit + "y\n{}\n");
  line_reader r{in, 100};
  std::string line;
  REQUIRE(r.next(line) == status::line);
  CHECK(line == at_limit);
  REQUIRE(r.next(line) == status::too_long);
  CHECK(line.empty());
  CHECK(r.number() == 2);
  CHECK(r.length() == 101);
  CHECK(line_too_long(r) ==
        "invalid scenario line: line 2 has 101 bytes, more than the limit of 100");
  REQUIRE(r.next(line) == status::line);
  CHECK(line == "{}");
  CHECK(r.number() == 3);
}

TEST_CASE("a 1 GB line is skipped without being kept", "[scenario_line]") {
  const uint64_t gib = uint64_t{1} << 30;
  long_line_buffer buffer{gib, "\n{\"op\":\"sleep\"}"};
  std::istream in{&buffer};
  line_reader r{in};
  std::string line;
  REQUIRE(r.next(line) == status::too_long);
  CHECK(r.length() == gib);
  CHECK(buffer.produced() == gib);
  // Never more than the limit and one read's worth held.
  CHECK(line.capacity() <= max_line_bytes + 64 * 1024);
  REQUIRE(r.next(line) == status::line);
  CHECK(line == "{\"op\":\"sleep\"}");
  CHECK(r.number() == 2);
  CHECK(r.next(line) == status::end);
}

TEST_CASE("a read error ends the input with badbit", "[scenario_line]") {
  struct failing : std::streambuf {
    int_type underflow() override { throw std::ios_base::failure("read error"); }
  } buffer;
  std::istream in{&buffer};
  line_reader r{in};
  std::string line;
  CHECK(r.next(line) == status::end);
  CHECK(in.bad());
}

TEST_CASE("parse_scenario_line takes one JSON object", "[scenario_line]") {
  auto ok = parse_scenario_line(R"({"op":"start","vm":"a"})");
  REQUIRE(ok);
  CHECK((*ok)["vm"] == "a");
  CHECK(parse_scenario_line("this is not json").err().text ==
        "invalid scenario line: not a JSON object (syntax error at byte 2)");
  CHECK(parse_scenario_line("[1,2]").err().text ==
        "invalid scenario line: not a JSON object (an array)");
  CHECK(parse_scenario_line("\"text\"").err().text ==
        "invalid scenario line: not a JSON object (\"text\")");
  CHECK_FALSE(parse_scenario_line("{\"op\":\"a\"} {}"));
  // Found by fuzzing: nlohmann throws out_of_range, not parse_error, here.
  CHECK(parse_scenario_line(R"({"op":"sleep","ms":1e999})").err().text ==
        "invalid scenario line: not a JSON object (a number beyond the range of a double)");
  CHECK(parse_scenario_line("-666666666666666666666666666666e6666666").err().text ==
        "invalid scenario line: not a JSON object (a number beyond the range of a double)");
}

TEST_CASE("parse_scenario_line bounds the nesting", "[scenario_line]") {
  auto nested = [](int depth) {
    return "{\"op\":\"sleep\",\"x\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') +
           "}";
  };
  CHECK(parse_scenario_line(nested(max_line_depth)));
  const std::string too_deep = "invalid scenario line: JSON nested deeper than 512 levels";
  CHECK(parse_scenario_line(nested(max_line_depth + 1)).err().text == too_deep);
  CHECK(parse_scenario_line(nested(10000)).err().text == too_deep);
  CHECK(parse_scenario_line(std::string(1 << 20, '{')).err().text == too_deep);
  // The parser ends the input at a NUL; so does the nesting check.
  auto after_nul = std::string{"{\"op\":\"x\"}"} + '\0' + std::string(1000, '[');
  CHECK(parse_scenario_line(after_nul));
  // Brackets inside strings are text, escaped quotes included.
  CHECK(parse_scenario_line("{\"op\":\"x\",\"s\":\"\\\"" + std::string(10000, '[') + "\"}"));
}

TEST_CASE("check_line_members: op is a string, vm and activity_id are strings", "[scenario_line]") {
  auto check = [](const char* text) { return check_line_members(json::parse(text)).text; };
  CHECK(check(R"({"op":"start","vm":"a","activity_id":"x"})").empty());
  CHECK(check(R"({"op":"sleep","vm":null})").empty());
  CHECK(check(R"({"vm":"a"})") == "missing string argument \"op\"");
  CHECK(check(R"({"op":7})") == "\"op\" must be a string, got 7");
  CHECK(check(R"({"op":"start","vm":["a"]})") == "\"vm\" must be a string, got an array");
  CHECK(check(R"({"op":"start","activity_id":1.5})") ==
        "\"activity_id\" must be a string, got 1.5");
}
