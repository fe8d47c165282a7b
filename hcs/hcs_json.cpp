#include "hcs/hcs_json.hpp"

#include <limits>

#include "gojson/go_json.hpp"
#include "gojson/json_reader.hpp"
#include "hcs/backend.hpp"

namespace uvm::hcs {

namespace {

[[noreturn]] void wrong_type(std::string_view name, const char* expected) {
  reject(hr::invalid_json, "member " + std::string(name) + " is not " + expected);
}

} // namespace

void reject(uint32_t hresult, const std::string& message) {
  throw rejection(hresult, message);
}

nlohmann::json parse_object(const std::string& text, const char* what) {
  auto value = gojson::read_json(text);
  if (!value) {
    reject(hr::invalid_json, std::string("the ") + what + " is not valid JSON");
  }
  if (!value->is_object()) {
    reject(hr::invalid_json, std::string("the ") + what + " is not a JSON object");
  }
  return std::move(*value);
}

namespace {

std::string string_value(const nlohmann::json& v) {
  return v.get<std::string>();
}
std::string string_value(const gojson::json_view& v) {
  return v.get_string();
}
bool bool_value(const nlohmann::json& v) {
  return v.get<bool>();
}
bool bool_value(const gojson::json_view& v) {
  return v.get_bool();
}
uint64_t uint_value(const nlohmann::json& v) {
  return v.get<uint64_t>();
}
uint64_t uint_value(const gojson::json_view& v) {
  return v.get_uint();
}
int64_t int_value(const nlohmann::json& v) {
  return v.get<int64_t>();
}
int64_t int_value(const gojson::json_view& v) {
  return v.get_int();
}

// The readers, written once for a tree and for a text read in place.

template <class Obj>
std::string string_member_of(const Obj& obj, std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return {};
  }
  if (!member->is_string()) {
    wrong_type(name, "a string");
  }
  return string_value(*member);
}

template <class Obj>
bool bool_member_of(const Obj& obj, std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return false;
  }
  if (!member->is_boolean()) {
    wrong_type(name, "a boolean");
  }
  return bool_value(*member);
}

template <class Obj>
uint64_t uint_member_of(const Obj& obj, std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return 0;
  }
  if (!member->is_number_unsigned()) {
    wrong_type(name, "an unsigned integer");
  }
  return uint_value(*member);
}

template <class Obj>
int64_t int_member_of(const Obj& obj, std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return 0;
  }
  if (!member->is_number_integer() ||
      (member->is_number_unsigned() &&
       uint_value(*member) > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    wrong_type(name, "an integer");
  }
  return int_value(*member);
}

template <class Obj>
std::vector<std::string> strings_member_of(const Obj& obj, std::string_view name) {
  std::vector<std::string> out;
  for_each_element(array_member(obj, name), [&](const auto& item) {
    if (!item.is_string()) {
      wrong_type(name, "an array of strings");
    }
    out.push_back(string_value(item));
  });
  return out;
}

} // namespace

const nlohmann::json* find_member(const nlohmann::json& obj, std::string_view name) {
  const auto* member = gojson::find_ci(obj, name);
  return member != nullptr && !member->is_null() ? member : nullptr;
}

const nlohmann::json* object_member(const nlohmann::json& obj, std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member != nullptr && !member->is_object()) {
    wrong_type(name, "an object");
  }
  return member;
}

std::string string_member(const nlohmann::json& obj, std::string_view name) {
  return string_member_of(obj, name);
}

bool bool_member(const nlohmann::json& obj, std::string_view name) {
  return bool_member_of(obj, name);
}

uint64_t uint_member(const nlohmann::json& obj, std::string_view name) {
  return uint_member_of(obj, name);
}

int64_t int_member(const nlohmann::json& obj, std::string_view name) {
  return int_member_of(obj, name);
}

std::vector<std::string> strings_member(const nlohmann::json& obj, std::string_view name) {
  return strings_member_of(obj, name);
}

const nlohmann::json& array_member(const nlohmann::json& obj, std::string_view name) {
  static const nlohmann::json empty = nlohmann::json::array();
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return empty;
  }
  if (!member->is_array()) {
    wrong_type(name, "an array");
  }
  return *member;
}

gojson::json_object parse_object_view(const std::string& text, const char* what) {
  gojson::json_object members;
  auto value = gojson::view_json(text, &members);
  if (!value) {
    reject(hr::invalid_json, std::string("the ") + what + " is not valid JSON");
  }
  if (!value->is_object()) {
    reject(hr::invalid_json, std::string("the ") + what + " is not a JSON object");
  }
  return members;
}

const gojson::json_view* find_member(const gojson::json_object& obj, std::string_view name) {
  const auto* member = obj.find_ci(name);
  return member != nullptr && !member->is_null() ? member : nullptr;
}

std::optional<gojson::json_object> object_member(const gojson::json_object& obj,
                                                 std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return std::nullopt;
  }
  if (!member->is_object()) {
    wrong_type(name, "an object");
  }
  return gojson::json_object{*member};
}

std::string string_member(const gojson::json_object& obj, std::string_view name) {
  return string_member_of(obj, name);
}

bool bool_member(const gojson::json_object& obj, std::string_view name) {
  return bool_member_of(obj, name);
}

uint64_t uint_member(const gojson::json_object& obj, std::string_view name) {
  return uint_member_of(obj, name);
}

int64_t int_member(const gojson::json_object& obj, std::string_view name) {
  return int_member_of(obj, name);
}

std::vector<std::string> strings_member(const gojson::json_object& obj, std::string_view name) {
  return strings_member_of(obj, name);
}

std::string_view string_member(const gojson::json_object& obj, std::string_view name,
                               std::string& decoded) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return {};
  }
  if (!member->is_string()) {
    wrong_type(name, "a string");
  }
  if (auto plain = member->plain_string()) {
    return *plain;
  }
  decoded = member->get_string();
  return decoded;
}

gojson::json_view array_member(const gojson::json_object& obj, std::string_view name) {
  const auto* member = find_member(obj, name);
  if (member == nullptr) {
    return {};
  }
  if (!member->is_array()) {
    wrong_type(name, "an array");
  }
  return *member;
}

std::optional<uint32_t> parse_index(std::string_view text) {
  if (text.empty() || text.size() > 9) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

bool equal_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  if (a == b) {
    return true; // the usual case, in one comparison
  }
  // ASCII only (what std::tolower does in the C locale), without a call per
  // character: every request's paths and names go through here.
  auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) {
      return false;
    }
  }
  return true;
}

} // namespace uvm::hcs
