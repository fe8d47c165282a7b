#include "tools/uvmctl/json_fields.hpp"

#include <algorithm>
#include <cstdio>

namespace uvm::cli {

namespace {

using nlohmann::json;

// Longer strings are described by their length: an error line stays short
// whatever the input holds.
constexpr size_t max_quoted = 40;

std::string plain(double d) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", d);
  return text;
}

} // namespace

std::string describe_json(const json& v) {
  switch (v.type()) {
  case json::value_t::string: {
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > max_quoted) {
      return "a string of " + std::to_string(s.size()) + " bytes";
    }
    break;
  }
  case json::value_t::array:
    return "an array";
  case json::value_t::object:
    return "an object";
  case json::value_t::discarded:
    return "nothing";
  case json::value_t::number_integer:
    // Non-negative integers are kept unsigned unless written "-0".
    if (v.get<int64_t>() == 0) {
      return "-0";
    }
    break;
  default:
    break;
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

field_reader::field_reader(const json& object, std::string prefix, char quote)
    : object_(object), prefix_(std::move(prefix)), quote_(quote) {}

std::string field_reader::label(const std::string& name) const {
  return prefix_ + quote_ + name + quote_;
}

void field_reader::fail(std::string text) {
  if (!err_) {
    err_ = error{errc::bad_request, std::move(text)};
  }
}

const json* field_reader::member(const char* name) {
  asked_.emplace_back(name);
  if (err_ || !object_.is_object()) {
    return nullptr;
  }
  auto i = object_.find(name);
  if (i == object_.end() || i->is_null()) {
    return nullptr;
  }
  return &*i;
}

bool field_reader::has(const char* name) const {
  if (!object_.is_object()) {
    return false;
  }
  auto i = object_.find(name);
  return i != object_.end() && !i->is_null();
}

std::string field_reader::text(const char* name, std::string fallback) {
  const json* v = member(name);
  if (!v) {
    return fallback;
  }
  if (!v->is_string()) {
    fail(label(name) + " must be a string, got " + describe_json(*v));
    return fallback;
  }
  return v->get<std::string>();
}

bool field_reader::flag(const char* name, bool fallback) {
  const json* v = member(name);
  if (!v) {
    return fallback;
  }
  if (!v->is_boolean()) {
    fail(label(name) + " must be true or false, got " + describe_json(*v));
    return fallback;
  }
  return v->get<bool>();
}

std::vector<std::string> field_reader::texts(const char* name) {
  std::vector<std::string> out;
  const json* v = member(name);
  if (!v) {
    return out;
  }
  if (!v->is_array()) {
    fail(label(name) + " must be an array of strings, got " + describe_json(*v));
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      fail(label(name) + " must be an array of strings, got " + describe_json(e) + " at index " +
           std::to_string(i));
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

double field_reader::number(const char* name, double fallback, double lo, double hi) {
  const json* v = member(name);
  if (!v) {
    return fallback;
  }
  if (!v->is_number() || !(v->get<double>() >= lo && v->get<double>() <= hi)) {
    fail(label(name) + " must be a number in " + plain(lo) + ".." + plain(hi) + ", got " +
         describe_json(*v));
    return fallback;
  }
  return v->get<double>();
}

const json* field_reader::object(const char* name) {
  const json* v = member(name);
  if (v && !v->is_object()) {
    fail(label(name) + " must be an object, got " + describe_json(*v));
    return nullptr;
  }
  return v;
}

void field_reader::reject_unknown() {
  if (!object_.is_object()) {
    return;
  }
  for (auto it = object_.begin(); it != object_.end() && !err_; ++it) {
    if (std::find(asked_.begin(), asked_.end(), it.key()) == asked_.end()) {
      fail("unknown " + label(it.key()));
    }
  }
}

} // namespace uvm::cli
