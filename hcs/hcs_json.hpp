// Reading HCS JSON the way HCS reads it: member names match case-insensitively,
// unknown members are ignored, null counts as absent, and a member of the
// wrong type makes the whole text invalid (0xC037010D). What a backend
// refuses it throws as a `rejection`, which it turns into a call_result at
// its boundary. Shared by the simulator and the QEMU backend.
//
// Each reader has a twin over a gojson::json_object (the text read in
// place, gojson/json_view.hpp) with the same checks and errors, for the
// requests of every call, where building a tree was most of the cost.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gojson/json_view.hpp"

namespace uvm::hcs {

struct rejection : std::runtime_error {
  rejection(uint32_t code, const std::string& message)
      : std::runtime_error(message), hresult(code) {}
  uint32_t hresult;
};

[[noreturn]] void reject(uint32_t hresult, const std::string& message);

// `what` names the text in error messages ("document", "request", "query").
nlohmann::json parse_object(const std::string& text, const char* what);

// The member, or nullptr when absent or null.
const nlohmann::json* find_member(const nlohmann::json& obj, std::string_view name);
// The member if it is an object; nullptr when absent; rejects another type.
const nlohmann::json* object_member(const nlohmann::json& obj, std::string_view name);
std::string string_member(const nlohmann::json& obj, std::string_view name);
bool bool_member(const nlohmann::json& obj, std::string_view name);
uint64_t uint_member(const nlohmann::json& obj, std::string_view name);
int64_t int_member(const nlohmann::json& obj, std::string_view name);
std::vector<std::string> strings_member(const nlohmann::json& obj, std::string_view name);
// Array members; an empty array when absent.
const nlohmann::json& array_member(const nlohmann::json& obj, std::string_view name);

// The twins over a text read in place; the views refer to `text`.
gojson::json_object parse_object_view(const std::string& text, const char* what);
const gojson::json_view* find_member(const gojson::json_object& obj, std::string_view name);
std::optional<gojson::json_object> object_member(const gojson::json_object& obj,
                                                 std::string_view name);
std::string string_member(const gojson::json_object& obj, std::string_view name);
// The same string without a copy: a view of the text, or of `decoded`
// when it has escapes.
std::string_view string_member(const gojson::json_object& obj, std::string_view name,
                               std::string& decoded);
bool bool_member(const gojson::json_object& obj, std::string_view name);
uint64_t uint_member(const gojson::json_object& obj, std::string_view name);
int64_t int_member(const gojson::json_object& obj, std::string_view name);
std::vector<std::string> strings_member(const gojson::json_object& obj, std::string_view name);
// An empty view (no elements) when absent.
gojson::json_view array_member(const gojson::json_object& obj, std::string_view name);

// For code written once for both: an array's elements, and an element as
// an object to read members from.
template <class F>
void for_each_element(const nlohmann::json& array, F&& f) {
  for (const auto& element : array) {
    f(element);
  }
}
template <class F>
void for_each_element(const gojson::json_view& array, F&& f) {
  array.for_each_element(f);
}
inline const nlohmann::json& as_object(const nlohmann::json& value) {
  return value;
}
inline gojson::json_object as_object(const gojson::json_view& value) {
  return gojson::json_object{value};
}

// A decimal index such as a LUN or device number in a map key or path.
std::optional<uint32_t> parse_index(std::string_view text);

bool equal_ci(std::string_view a, std::string_view b);

} // namespace uvm::hcs
