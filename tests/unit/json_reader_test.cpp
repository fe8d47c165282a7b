// gojson::read_json against nlohmann::json::parse: the same inputs accepted,
// the same values (and member order) produced, on hand-picked corner cases
// and on many generated and mutated documents. gojson::view_json against
// read_json on the same inputs: the same inputs accepted, the same values
// read through the view, and the same member found by find_ci.
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"
#include "gojson/json_reader.hpp"
#include "gojson/json_view.hpp"

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

void view_agrees(const std::string& text, const std::optional<json>& tree);

// Both parsers agree on `text`: both reject it, or both accept it with the
// same value, the same types and (ordered) the same member order.
void agree(const std::string& text) {
  INFO("input: " << json(text).dump(-1, ' ', true, json::error_handler_t::replace));
  auto theirs = json::parse(text, nullptr, false);
  auto ours = uvm::gojson::read_json(text);
  REQUIRE(theirs.is_discarded() == !ours.has_value());
  auto theirs_ordered = ordered_json::parse(text, nullptr, false);
  auto ours_ordered = uvm::gojson::read_ordered_json(text);
  REQUIRE(theirs_ordered.is_discarded() == !ours_ordered.has_value());
  if (ours) {
    CHECK(*ours == theirs);
    CHECK(ours->dump() == theirs.dump());
    CHECK(ours_ordered->dump() == theirs_ordered.dump());
  }
  view_agrees(text, ours);
}

// The tree a view reads as, member by member (a repeated name keeps its
// last value, as in read_json's tree).
json tree_of(const uvm::gojson::json_view& v) {
  using kind = uvm::gojson::json_view::kind;
  switch (v.type()) {
  case kind::null:
    return nullptr;
  case kind::boolean:
    return v.get_bool();
  case kind::number_unsigned:
    return v.get_uint();
  case kind::number_integer:
    return v.get_int();
  case kind::number_float:
    return v.get_double();
  case kind::string:
    return v.get_string();
  case kind::object: {
    auto out = json::object();
    v.for_each_member([&](std::string_view key, const uvm::gojson::json_view& value) {
      out[std::string(key)] = tree_of(value);
    });
    return out;
  }
  case kind::array: {
    auto out = json::array();
    v.for_each_element([&](const uvm::gojson::json_view& value) { out.push_back(tree_of(value)); });
    return out;
  }
  }
  return nullptr;
}

// Equal values of the same types all the way down.
bool same(const json& a, const json& b) {
  if (a.type() != b.type() || a != b) {
    return false;
  }
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!same(*it, b.at(it.key()))) {
        return false;
      }
    }
  }
  if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) {
        return false;
      }
    }
  }
  return true;
}

std::string folded(std::string s, bool upper) {
  for (auto& c : s) {
    if (upper && c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (!upper && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

// view_json reads `text` as read_json does, and its objects find the
// members find_ci finds in read_json's tree.
void view_agrees(const std::string& text, const std::optional<json>& tree) {
  auto view = uvm::gojson::view_json(text);
  REQUIRE(view.has_value() == tree.has_value());
  uvm::gojson::json_object read_along;
  REQUIRE(uvm::gojson::view_json(text, &read_along).has_value() == tree.has_value());
  if (!view) {
    return;
  }
  CHECK(same(tree_of(*view), *tree));
  if (!tree->is_object()) {
    return;
  }
  uvm::gojson::json_object members{*view};
  std::vector<std::string> names = {"", "absent"};
  for (const auto& [key, value] : tree->items()) {
    names.push_back(key);
    names.push_back(folded(key, true));
    names.push_back(folded(key, false));
  }
  for (const auto& name : names) {
    INFO("name: " << json(name).dump(-1, ' ', true, json::error_handler_t::replace));
    const auto* theirs = uvm::gojson::find_ci(*tree, name);
    const auto* ours = members.find_ci(name);
    const auto* ours_along = read_along.find_ci(name);
    REQUIRE((theirs == nullptr) == (ours == nullptr));
    REQUIRE((theirs == nullptr) == (ours_along == nullptr));
    if (ours != nullptr) {
      CHECK(same(tree_of(*ours), *theirs));
      CHECK(same(tree_of(*ours_along), *theirs));
    }
  }
}

} // namespace

TEST_CASE("read_json accepts and rejects what nlohmann does: corner cases", "[json_reader]") {
  const std::vector<std::string> cases = {
      "",
      " ",
      "{}",
      "[]",
      "{ }",
      "[ ]",
      "null",
      "true",
      "false",
      "tru",
      "nul",
      "truex",
      "0",
      "-0",
      "01",
      "-01",
      "1.",
      ".5",
      "1.5",
      "-1.5e3",
      "1e",
      "1e+",
      "1E-2",
      "+1",
      "-",
      "--1",
      "18446744073709551615",
      "18446744073709551616",
      "-9223372036854775808",
      "-9223372036854775809",
      "1e999",
      "123456789012345678901234567890",
      "\"\"",
      "\"a\"",
      "\"a",
      "\"\\\"\"",
      "\"\\/\\b\\f\\n\\r\\t\\\\\"",
      "\"\\x\"",
      "\"\\u0041\"",
      "\"\\u00e9\"",
      "\"\\u0000\"",
      "\"\\u12\"",
      "\"\\uZZZZ\"",
      "\"\\ud83d\\ude00\"",
      "\"\\ud83d\"",
      "\"\\ud83dx\"",
      "\"\\ude00\"",
      "\"\\ud83d\\u0041\"",
      "\"tab\there\"",
      "\"nl\nhere\"",
      "\"\x7f\"",
      "\"\xc3\xa9\"",
      "\"\xc3\"",
      "\"\xc0\xaf\"",
      "\"\xe0\x80\xaf\"",
      "\"\xed\xa0\x80\"",
      "\"\xf0\x9f\x98\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "\"\xff\"",
      "\xef\xbb\xbf{}",
      "\xef\xbb{}",
      "{\"a\":1}",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{\"a\":}",
      "{a:1}",
      "{\"a\":1 \"b\":2}",
      "{\"a\":1,\"a\":2}",
      "{\"b\":1,\"a\":2,\"b\":3}",
      "{\"Path\":1,\"path\":2,\"PATH\":3,\"path\":4}",
      "{\"pAth\":1,\"PaTh\":2,\"pAth\":3}",
      "{\"P\\u0061th\":1,\"path\":[true,{\"x\":null}],\"\\u0050ATH\":\"s\\\"\"}",
      "{\"a\":-0,\"b\":1.0,\"c\":-9223372036854775809,\"d\":18446744073709551616}",
      "{\"m0\":0,\"m1\":1,\"m2\":2,\"m3\":3,\"m4\":4,\"m5\":5,\"m6\":6,\"m7\":7,\"M8\":8,\"m9\":9,"
      "\"m1\":11,\"m8\":88,\"M\\u0039\":99}",
      "[1,]",
      "[,1]",
      "[1 2]",
      "[1,[2,[3,{\"x\":[]}]]]",
      "{} {}",
      "{}x",
      " \t\r\n{} \n",
      "{}\f",
      std::string("{}\0", 3),
      std::string("\"a\0b\"", 5),
      R"({"ResourcePath":"VirtualMachine/Devices/Scsi/0/Attachments/0","RequestType":"Add","Settings":{"Type":"VirtualDisk","Path":"C:\\ContainerData\\ctr1\\sandbox.vhdx"}})",
  };
  for (const auto& text : cases) {
    agree(text);
  }
}

TEST_CASE("read_json rejects nesting deeper than its limit", "[json_reader]") {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']');
  };
  CHECK(uvm::gojson::read_json(nested(uvm::gojson::max_json_depth)));
  CHECK_FALSE(uvm::gojson::read_json(nested(uvm::gojson::max_json_depth + 1)));
}

namespace {

std::string random_string(std::mt19937_64& rng) {
  static const std::vector<std::string> pieces = {"a",
                                                  "Z",
                                                  "0",
                                                  " ",
                                                  "/",
                                                  "\\",
                                                  "\"",
                                                  "\n",
                                                  "\t",
                                                  "\x01",
                                                  "\x7f",
                                                  "\xc3\xa9",
                                                  "\xe2\x82\xac",
                                                  "\xf0\x9f\x98\x80",
                                                  "\xe2\x80\xa8",
                                                  "C:\\ContainerData",
                                                  "VirtualDisk",
                                                  "<&>"};
  std::string s;
  auto n = std::uniform_int_distribution<int>(0, 8)(rng);
  for (int i = 0; i < n; ++i) {
    s += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
  }
  return s;
}

ordered_json random_value(std::mt19937_64& rng, int depth) {
  auto kind = std::uniform_int_distribution<int>(0, depth > 3 ? 5 : 7)(rng);
  switch (kind) {
  case 0:
    return nullptr;
  case 1:
    return std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  case 2:
    return static_cast<int64_t>(rng()) >> std::uniform_int_distribution<int>(0, 63)(rng);
  case 3:
    return rng() >> std::uniform_int_distribution<int>(0, 63)(rng);
  case 4:
    return std::uniform_real_distribution<double>(-1e6, 1e6)(rng) *
           std::pow(10.0, std::uniform_int_distribution<int>(-30, 30)(rng));
  case 5:
    return random_string(rng);
  case 6: {
    auto arr = ordered_json::array();
    auto n = std::uniform_int_distribution<int>(0, 4)(rng);
    for (int i = 0; i < n; ++i) {
      arr.push_back(random_value(rng, depth + 1));
    }
    return arr;
  }
  default: {
    auto obj = ordered_json::object();
    auto n = std::uniform_int_distribution<int>(0, 4)(rng);
    for (int i = 0; i < n; ++i) {
      obj[random_string(rng)] = random_value(rng, depth + 1);
    }
    return obj;
  }
  }
}

// One random edit: drop, insert, replace or duplicate a few bytes.
std::string mutate(std::string text, std::mt19937_64& rng) {
  static const std::string alphabet = "{}[]\",:\\/u0123456789eE+-.tfnrlasb \t\n\r\x01\x1f\x7f"
                                      "\x80\xbf\xc2\xc3\xe0\xed\xef\xf0\xf4\xff";
  auto pos = [&] { return std::uniform_int_distribution<size_t>(0, text.size())(rng); };
  auto byte = [&] {
    return alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
  };
  switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
  case 0:
    if (!text.empty()) {
      text.erase(std::min(pos(), text.size() - 1), 1);
    }
    break;
  case 1:
    text.insert(pos(), 1, byte());
    break;
  case 2:
    if (!text.empty()) {
      text[std::min(pos(), text.size() - 1)] = byte();
    }
    break;
  case 3:
    text.resize(pos());
    break;
  default: {
    auto from = pos();
    auto len = std::uniform_int_distribution<size_t>(0, 8)(rng);
    text.insert(pos(), text.substr(from, len));
    break;
  }
  }
  return text;
}

} // namespace

TEST_CASE("read_json agrees with nlohmann on generated and mutated documents", "[json_reader]") {
  std::mt19937_64 rng{20261129};
  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < 4000; ++i) {
    auto doc = random_value(rng, 0);
    // Written both ways nlohmann can: raw UTF-8 and \u escapes.
    for (bool ascii : {false, true}) {
      auto text = doc.dump(-1, ' ', ascii);
      agree(text);
      for (int m = 0; m < 3; ++m) {
        text = mutate(text, rng);
        agree(text);
        (json::parse(text, nullptr, false).is_discarded() ? rejected : accepted) += 1;
      }
    }
  }
  // The mutations produced plenty of both.
  CHECK(accepted > 2000);
  CHECK(rejected > 2000);
}
