// What the QMP client reads from QEMU: lines of bounded length, each one
// message (reply, error, event) or ignored; malformed members never throw.
#include "hcs/qemu/qmp_reader.hpp"

#include <string>

#include <catch2/catch.hpp>

using nlohmann::json;
using namespace uvm::hcs::qemu;
using kind = qmp_message::kind;

TEST_CASE("parse_qmp_line classifies QEMU's messages", "[qmp_reader]") {
  auto greeting = parse_qmp_line(R"({"QMP":{"version":{"qemu":{"major":7}},"capabilities":[]}})");
  CHECK(greeting.what == kind::ignored);

  auto reply = parse_qmp_line(R"({"return":{"status":"running"},"id":7})");
  CHECK(reply.what == kind::reply);
  CHECK(reply.id == 7);
  CHECK_FALSE(reply.failed);
  CHECK(reply.value == json{{"status", "running"}});
  CHECK(parse_qmp_line(R"({"id":1})").value == json::object());

  auto error = parse_qmp_line(
      R"({"error":{"class":"GenericError","desc":"Duplicate node name"},"id":18446744073709551615})");
  CHECK(error.what == kind::reply);
  CHECK(error.id == UINT64_MAX);
  CHECK(error.failed);
  CHECK(error.error == "GenericError: Duplicate node name");

  auto event = parse_qmp_line(
      R"({"timestamp":{"seconds":1,"microseconds":2},"event":"DEVICE_DELETED","data":{"device":"scsi0-1"}})");
  CHECK(event.what == kind::event);
  CHECK(event.event == "DEVICE_DELETED");
  CHECK(event.value["device"] == "scsi0-1");
  CHECK(parse_qmp_line(R"({"event":"STOP"})").value == json::object());
}

TEST_CASE("parse_qmp_line ignores or tolerates malformed members", "[qmp_reader]") {
  // Each of these used to throw out of the reader thread.
  CHECK(parse_qmp_line(R"({"event":5,"data":{}})").what == kind::ignored);
  auto odd_error = parse_qmp_line(R"({"error":"broken","id":3})");
  CHECK(odd_error.failed);
  CHECK(odd_error.error == "Error: (no description)");
  auto typed_error = parse_qmp_line(R"({"error":{"class":1,"desc":["x"]},"id":3})");
  CHECK(typed_error.error == "Error: (no description)");

  for (const char* line : {"", "not json", "[1]", "\"text\"", R"({"id":-1})", R"({"id":"7"})",
                           R"({"id":1.5})", "{\"return\":{}, \"id\":1"}) {
    INFO(line);
    CHECK(parse_qmp_line(line).what == kind::ignored);
  }
  // Deeper than the JSON reader's limit: ignored, never copied recursively.
  std::string deep =
      "{\"return\":" + std::string(100000, '[') + std::string(100000, ']') + ",\"id\":1}";
  CHECK(parse_qmp_line(deep).what == kind::ignored);
}

TEST_CASE("qmp_line_splitter yields lines across reads", "[qmp_reader]") {
  qmp_line_splitter s;
  s.feed("{\"a\":1}\n{\"b\"", 12);
  auto first = s.next();
  REQUIRE(first);
  CHECK(*first == "{\"a\":1}");
  CHECK_FALSE(s.next());
  s.feed(":2}\r\n\n", 6);
  auto second = s.next();
  REQUIRE(second);
  CHECK(*second == "{\"b\":2}\r");
  auto empty = s.next();
  REQUIRE(empty);
  CHECK(empty->empty());
  CHECK_FALSE(s.next());
  CHECK_FALSE(s.failed());
}

TEST_CASE("qmp_line_splitter stops at a line over its limit", "[qmp_reader]") {
  qmp_line_splitter s{16};
  std::string at_limit(16, 'x');
  s.feed((at_limit + "\n").data(), 17);
  REQUIRE(s.next() == at_limit);
  // Without a newline yet: failed as soon as the limit is passed.
  for (int i = 0; i < 17; ++i) {
    s.feed("y", 1);
    CHECK_FALSE(s.next());
  }
  CHECK(s.failed());
  CHECK(s.error() == "QMP line longer than 16 bytes");
  s.feed("\n{}\n", 4);
  CHECK_FALSE(s.next());

  qmp_line_splitter whole{16};
  whole.feed((std::string(20, 'z') + "\n{}\n").data(), 24);
  CHECK_FALSE(whole.next());
  CHECK(whole.failed());
}
