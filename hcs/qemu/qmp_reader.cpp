#include "hcs/qemu/qmp_reader.hpp"

#include <algorithm>

#include "gojson/json_reader.hpp"

namespace uvm::hcs::qemu {

namespace {

using nlohmann::json;

std::string text_member(const json& obj, const char* name, const char* fallback) {
  auto i = obj.find(name);
  return i != obj.end() && i->is_string() ? i->get<std::string>() : fallback;
}

} // namespace

qmp_message parse_qmp_line(std::string_view line) {
  qmp_message m;
  // read_json bounds the nesting, so copying the value cannot recurse deeply.
  auto msg = gojson::read_json(line);
  if (!msg || !msg->is_object()) {
    return m;
  }
  if (auto e = msg->find("event"); e != msg->end()) {
    if (!e->is_string()) {
      return m;
    }
    m.what = qmp_message::kind::event;
    m.event = e->get<std::string>();
    auto data = msg->find("data");
    m.value = data != msg->end() ? std::move(*data) : json::object();
    return m;
  }
  auto id = msg->find("id");
  if (id == msg->end() || !id->is_number_unsigned()) {
    return m; // the greeting, or an answer to a command that is not ours
  }
  m.what = qmp_message::kind::reply;
  m.id = id->get<uint64_t>();
  if (auto e = msg->find("error"); e != msg->end()) {
    m.failed = true;
    const json& err = e->is_object() ? *e : json::object();
    m.error =
        text_member(err, "class", "Error") + ": " + text_member(err, "desc", "(no description)");
    return m;
  }
  auto ret = msg->find("return");
  m.value = ret != msg->end() ? std::move(*ret) : json::object();
  return m;
}

void qmp_line_splitter::feed(const char* data, size_t size) {
  if (!failed()) {
    buffer_.append(data, size);
  }
}

std::optional<std::string> qmp_line_splitter::next() {
  if (failed()) {
    return std::nullopt;
  }
  // Bytes before scanned_ hold no newline: a long line arriving in many
  // reads is searched once.
  auto nl = buffer_.find('\n', std::max(start_, scanned_));
  size_t length = (nl == std::string::npos ? buffer_.size() : nl) - start_;
  if (length > max_) {
    error_ = "QMP line longer than " + std::to_string(max_) + " bytes";
    buffer_.clear();
    start_ = scanned_ = 0;
    return std::nullopt;
  }
  if (nl == std::string::npos) {
    buffer_.erase(0, start_);
    scanned_ = buffer_.size();
    start_ = 0;
    return std::nullopt;
  }
  std::string line = buffer_.substr(start_, length);
  start_ = nl + 1;
  return line;
}

} // namespace uvm::hcs::qemu
