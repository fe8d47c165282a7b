// libFuzzer target, differential: gojson::read_json against nlohmann's parser
// on any text. Both accept or both reject, with the same value, the same
// types and (ordered) the same member order; the one difference allowed is
// nesting deeper than max_json_depth, which read_json rejects. And
// gojson::view_json against read_json: both accept or both reject, and an
// object's members found through the view hold the tree's values.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gojson/json_reader.hpp"
#include "gojson/json_view.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// The deepest bracket nesting outside strings, up to a NUL, where both
// parsers take the input to end (an upper bound of the value's depth; for
// text both parsers accept it is the depth).
int bracket_depth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
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
      break;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ours = uvm::gojson::read_json(text);
  auto ours_ordered = uvm::gojson::read_ordered_json(text);
  check(ours.has_value() == ours_ordered.has_value());
  auto view = uvm::gojson::view_json(text);
  check(view.has_value() == ours.has_value());
  uvm::gojson::json_object read_along;
  check(uvm::gojson::view_json(text, &read_along).has_value() == ours.has_value());
  if (view && ours->is_object()) {
    uvm::gojson::json_object members{*view};
    for (const auto& [key, value] : ours->items()) {
      const auto* member = members.find_ci(key);
      check(member != nullptr && uvm::gojson::read_json(member->text()) == value);
      const auto* along = read_along.find_ci(key);
      check(along != nullptr && uvm::gojson::read_json(along->text()) == value);
    }
  }
  auto theirs = nlohmann::json::parse(text, nullptr, false);
  if (bracket_depth(text) > uvm::gojson::max_json_depth) {
    check(!ours);
    return 0;
  }
  check(ours.has_value() == !theirs.is_discarded());
  if (ours) {
    auto theirs_ordered = nlohmann::ordered_json::parse(text, nullptr, false);
    check(*ours == theirs);
    check(ours->dump() == theirs.dump());
    check(ours_ordered->dump() == theirs_ordered.dump());
  }
  return 0;
}
