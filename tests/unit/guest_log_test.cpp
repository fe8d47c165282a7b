// The guest log parser (uvm-api.md §5.6): each rule, every chunk boundary,
// the decode error and the text after it, and the bound on what it holds.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/core/guest_log.hpp"

using uvm::logging::guest_log_parser;
using uvm::logging::guest_record;
using uvm::logging::level;

namespace {

struct collected {
  std::vector<guest_record> records;
  guest_log_parser parser;
  explicit collected(size_t max_entry = guest_log_parser::default_max_entry)
      : parser(
            "vm-1", [this](guest_record r) { records.push_back(std::move(r)); }, max_entry) {}
};

std::vector<guest_record> parse(const std::string& stream) {
  collected c;
  c.parser.feed(stream);
  c.parser.end();
  return std::move(c.records);
}

} // namespace

TEST_CASE("guest log: an entry keeps its level, message, time and fields", "[guest_log]") {
  auto r = parse(R"({"level":"warning","msg":"disk slow","time":"2026-12-05T08:00:01.5Z",)"
                 R"("dev":"sda","n":3.0,"ratio":0.5,"big":1e300,"nested":{"x":2.0}})"
                 "\n");
  REQUIRE(r.size() == 1);
  CHECK(r[0].lvl == level::warn);
  CHECK(r[0].msg == "disk slow");
  auto& f = r[0].fields;
  CHECK(f["uvm-id"] == "vm-1");
  CHECK(f["vm.time"] == "2026-12-05T08:00:01.5Z");
  CHECK(f["dev"] == "sda");
  CHECK(f["n"].is_number_integer());
  CHECK(f["n"] == 3);
  CHECK(f["ratio"] == 0.5);
  CHECK(f["big"].is_number_float()); // integral but past int64
  CHECK(f["nested"]["x"].is_number_float());
  CHECK(!f.contains("level"));
  CHECK(!f.contains("msg"));
  CHECK(!f.contains("time"));
}

TEST_CASE("guest log: levels as logrus reads them, panic and fatal lowered", "[guest_log]") {
  auto r = parse(R"({"msg":"a"}{"level":"panic"}{"level":"FATAL"}{"level":"error"})"
                 R"({"level":"warn"}{"level":"Debug"}{"level":"trace"}{"level":"info"})");
  REQUIRE(r.size() == 8);
  CHECK(r[0].lvl == level::info); // no level: info
  CHECK(r[0].fields["vm.time"] == "0001-01-01T00:00:00Z");
  CHECK(r[1].lvl == level::error);
  CHECK(r[2].lvl == level::error);
  CHECK(r[3].lvl == level::error);
  CHECK(r[4].lvl == level::warn);
  CHECK(r[5].lvl == level::debug);
  CHECK(r[6].lvl == level::trace);
  CHECK(r[7].lvl == level::info);
}

TEST_CASE("guest log: integers stay, integral floats become integers", "[guest_log]") {
  auto r = parse(R"({"a":-2.0,"b":1e3,"c":18446744073709551615,"d":-9223372036854775808.0,)"
                 R"("e":7,"f":true,"g":null})");
  REQUIRE(r.size() == 1);
  auto& f = r[0].fields;
  CHECK(f["a"].is_number_integer());
  CHECK(f["a"] == -2);
  CHECK(f["b"] == 1000);
  CHECK(f["b"].is_number_integer());
  CHECK(f["c"].is_number_float()); // past int64, as Go's float64
  CHECK(f["d"].is_number_integer());
  CHECK(f["e"] == 7);
  CHECK(f["f"] == true);
  CHECK(f["g"].is_null());
}

TEST_CASE("guest log: every split of the stream gives the same records", "[guest_log]") {
  std::string stream = R"({"level":"info","msg":"one \"}{\" \\","time":"2026-12-05T08:00:00Z"})"
                       "\n"
                       R"({"level":"debug","msg":"two","list":[1,{"k":"]"}]})"
                       "\r\n  "
                       R"({"msg":"three","u":"\u00e9"})"
                       "\n";
  auto whole = parse(stream);
  REQUIRE(whole.size() == 3);
  CHECK(whole[0].msg == "one \"}{\" \\");
  CHECK(whole[1].fields["list"][1]["k"] == "]");
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); b += 7) {
      collected c;
      c.parser.feed(stream.substr(0, a));
      c.parser.feed(stream.substr(a, b - a));
      c.parser.feed(stream.substr(b));
      c.parser.end();
      REQUIRE(c.records.size() == 3);
      for (size_t i = 0; i < 3; ++i) {
        CHECK(c.records[i].msg == whole[i].msg);
        CHECK(c.records[i].fields == whole[i].fields);
      }
    }
  }
  collected bytewise;
  for (char ch : stream) {
    bytewise.parser.feed(std::string(1, ch));
  }
  bytewise.parser.end();
  CHECK(bytewise.records.size() == 3);
}

TEST_CASE("guest log: a decode error, then the rest of the stream as text", "[guest_log]") {
  auto r = parse("{\"msg\":\"before\"}\npanic: runtime error\n\ngoroutine 1 [running]:\n"
                 "{\"msg\":\"not parsed\"}\n\n");
  REQUIRE(r.size() == 3);
  CHECK(r[0].msg == "before");
  CHECK(r[1].lvl == level::error);
  CHECK(r[1].msg == "gcs log read");
  CHECK(r[1].fields["error"] == "invalid character 'p' looking for beginning of value");
  CHECK(r[1].fields["uvm-id"] == "vm-1");
  CHECK(r[2].lvl == level::error);
  CHECK(r[2].msg == "gcs terminated");
  CHECK(r[2].fields["stderr"] ==
        "panic: runtime error\n\ngoroutine 1 [running]:\n{\"msg\":\"not parsed\"}");
  CHECK(r[2].fields["uvm-id"] == "vm-1");
}

TEST_CASE("guest log: malformed JSON is a decode error and part of the text", "[guest_log]") {
  auto r = parse("{\"msg\":\"x\",]\ntail");
  REQUIRE(r.size() == 2);
  CHECK(r[0].msg == "gcs log read");
  CHECK(r[0].fields["error"].get<std::string>().find("invalid character") == 0);
  CHECK(r[1].fields["stderr"] == "{\"msg\":\"x\",]\ntail");
}

TEST_CASE("guest log: what logrus would refuse is a decode error", "[guest_log]") {
  auto first_error = [](const std::string& s) {
    auto r = parse(s);
    REQUIRE(!r.empty());
    return r[0].msg == "gcs log read" ? r[0].fields["error"].get<std::string>() : std::string{};
  };
  CHECK(first_error(R"({"level":"loud"})") == "not a valid logrus Level: \"loud\"");
  CHECK(first_error(R"({"level":3})") ==
        "json: cannot unmarshal number into Go struct field gcsLogEntryStandard.level of type "
        "logrus.Level");
  CHECK(first_error(R"({"msg":["x"]})") ==
        "json: cannot unmarshal array into Go struct field gcsLogEntryStandard.msg of type string");
  CHECK(first_error(R"({"time":"yesterday"})").find("parsing time \"yesterday\"") == 0);
  CHECK(first_error(R"({"time":"2026-12-05T08:00:00+01:00"})").empty());
  CHECK(first_error(R"("just a string")") == "a gcs log entry must be a JSON object");
  CHECK(first_error("[1]") == "a gcs log entry must be a JSON object");
}

TEST_CASE("guest log: the end of the stream", "[guest_log]") {
  SECTION("between entries, or only whitespace after an error: nothing more") {
    CHECK(parse("{\"msg\":\"a\"}\n \n").size() == 1);
    auto r = parse("x   \n\t");
    REQUIRE(r.size() == 2); // the error, and "x" as text
    CHECK(r[1].fields["stderr"] == "x");
    CHECK(parse("").empty());
  }
  SECTION("inside an entry: unexpected EOF, and the partial entry as text") {
    auto r = parse("{\"msg\":\"a\"}{\"msg\":\"cut");
    REQUIRE(r.size() == 3);
    CHECK(r[1].msg == "gcs log read");
    CHECK(r[1].fields["error"] == "unexpected EOF");
    CHECK(r[2].fields["stderr"] == "{\"msg\":\"cut");
  }
  SECTION("the parser is ready for a new stream after its end") {
    collected c;
    c.parser.feed("oops");
    c.parser.end();
    CHECK(!c.parser.reading_text());
    c.parser.feed("{\"msg\":\"again\"}");
    c.parser.end();
    REQUIRE(c.records.size() == 3);
    CHECK(c.records[2].msg == "again");
  }
}

TEST_CASE("guest log: an entry past the limit ends the parsing; the text is bounded",
          "[guest_log]") {
  collected c{64};
  c.parser.feed(R"({"msg":"fits"})");
  c.parser.feed("{\"msg\":\"" + std::string(40, 'a'));
  CHECK(!c.parser.reading_text());
  c.parser.feed(std::string(40, 'b'));
  CHECK(c.parser.reading_text());
  c.parser.feed(std::string(1000, 'c') + "\"}\n");
  c.parser.end();
  REQUIRE(c.records.size() == 3);
  CHECK(c.records[1].fields["error"] == "gcs log entry longer than 64 bytes");
  auto text = c.records[2].fields["stderr"].get<std::string>();
  CHECK(text.size() == 64);
  CHECK(text.rfind("{\"msg\":\"aaaa", 0) == 0);
  CHECK(c.records[2].fields["stderr-dropped-bytes"] == 8 + 80 + 1003 - 64);
}

TEST_CASE("guest log: text that is not UTF-8 is logged with replacement characters",
          "[guest_log]") {
  auto r = parse("bad \xff\xc3 end");
  REQUIRE(r.size() == 2);
  CHECK(r[1].fields["stderr"] == "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  CHECK_NOTHROW(r[1].fields.dump());
}
