// Strict reading of the members of a JSON object (a scenario line, its
// options, the objects inside its arguments): a member must have the JSON
// type of the field it fills, an integer must fit that field's type exactly
// (a Go uint32 is a C++ uint32_t here: 4294967296 is an error, not 0), and
// every error names the member. Pure: no engine, no I/O.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"

namespace uvm::cli {

// A value as an error message shows it: numbers, booleans, null and short
// strings as JSON text, longer strings by their length, arrays and objects
// by their kind. Always valid UTF-8.
std::string describe_json(const nlohmann::json& v);

// The Go name of an integer type, for error messages.
template <class Int>
constexpr const char* int_type_name() {
  constexpr bool s = std::numeric_limits<Int>::is_signed;
  switch (sizeof(Int)) {
  case 1:
    return s ? "int8" : "uint8";
  case 2:
    return s ? "int16" : "uint16";
  case 4:
    return s ? "int32" : "uint32";
  default:
    return s ? "int64" : "uint64";
  }
}

// The integer `v` holds when it is a JSON integer within lo..hi (a number
// with a fraction or an exponent is not an integer, as for Go).
template <class Int>
bool integer_within(const nlohmann::json& v, Int lo, Int hi, Int& out) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if constexpr (std::is_signed_v<Int>) {
      if (hi < 0 || u > static_cast<uint64_t>(hi) || (lo > 0 && u < static_cast<uint64_t>(lo))) {
        return false;
      }
    } else if (u < static_cast<uint64_t>(lo) || u > static_cast<uint64_t>(hi)) {
      return false;
    }
    out = static_cast<Int>(u);
    return true;
  }
  if constexpr (std::is_signed_v<Int>) {
    // Negative: nlohmann keeps non-negative integers unsigned.
    if (v.is_number_integer()) {
      auto s = v.get<int64_t>();
      if (s < lo || s > hi) {
        return false;
      }
      out = static_cast<Int>(s);
      return true;
    }
  }
  return false;
}

// Reads members by name and keeps the first error; after an error every
// read returns its fallback, so a caller reads all it needs and checks
// err() once. A member that is absent or null takes the fallback.
class field_reader {
public:
  // Errors name a member as `prefix` + quote + name + quote, e.g. options
  // field 'MemorySizeInMB' or "count".
  explicit field_reader(const nlohmann::json& object, std::string prefix = {}, char quote = '"');

  bool has(const char* name) const;
  std::string text(const char* name, std::string fallback = {});
  bool flag(const char* name, bool fallback = false);
  std::vector<std::string> texts(const char* name);
  // A number (integer or not) within lo..hi.
  double number(const char* name, double fallback, double lo, double hi);
  // A present member that must be an object (nullptr when absent or wrong).
  const nlohmann::json* object(const char* name);

  // An integer of exactly the type of the field it fills.
  template <class Int>
  Int integer(const char* name, Int fallback) {
    return integer_in<Int>(name, fallback, std::numeric_limits<Int>::min(),
                           std::numeric_limits<Int>::max(), int_type_name<Int>());
  }
  // An integer within lo..hi; `type` (may be empty) is named in the error.
  template <class Int>
  Int integer_in(const char* name, Int fallback, Int lo, Int hi, const std::string& type = {}) {
    const nlohmann::json* v = member(name);
    if (!v) {
      return fallback;
    }
    Int out{};
    if (!integer_within(*v, lo, hi, out)) {
      fail(label(name) + " must be an integer in " + std::to_string(lo) + ".." +
           std::to_string(hi) + (type.empty() ? "" : " (" + type + ")") + ", got " +
           describe_json(*v));
      return fallback;
    }
    return out;
  }

  // One of the named values; the error lists them.
  template <class E>
  E choice(const char* name, E fallback, std::initializer_list<std::pair<const char*, E>> values) {
    const nlohmann::json* v = member(name);
    if (!v) {
      return fallback;
    }
    if (v->is_string()) {
      for (const auto& [text, value] : values) {
        if (v->get_ref<const std::string&>() == text) {
          return value;
        }
      }
    }
    std::string allowed;
    for (const auto& [text, value] : values) {
      allowed += (allowed.empty() ? "\"" : ", \"") + std::string{text} + "\"";
    }
    fail(label(name) + " must be one of " + allowed + ", got " + describe_json(*v));
    return fallback;
  }

  // Records `text` unless an error is already kept.
  void fail(std::string text);
  const error& err() const { return err_; }
  // A member no read asked for is an error ("unknown options field 'X'"):
  // a typo must show, not be ignored.
  void reject_unknown();
  // How errors name the member `name`.
  std::string label(const std::string& name) const;

private:
  // The member, or nullptr when absent, null, or after an error.
  const nlohmann::json* member(const char* name);

  const nlohmann::json& object_;
  std::string prefix_;
  char quote_;
  std::vector<std::string> asked_;
  error err_;
};

} // namespace uvm::cli
