#include "bridge/protocol.hpp"

#include <array>
#include <cstdio>

namespace uvm::bridge {

namespace {

struct rpc_name {
  rpc value;
  const char* name;
};

constexpr std::array<rpc_name, 14> rpc_names{{
    {rpc::create, "Create"},
    {rpc::start, "Start"},
    {rpc::shutdown_graceful, "ShutdownGraceful"},
    {rpc::shutdown_forced, "ShutdownForced"},
    {rpc::execute_process, "ExecuteProcess"},
    {rpc::wait_for_process, "WaitForProcess"},
    {rpc::signal_process, "SignalProcess"},
    {rpc::resize_console, "ResizeConsole"},
    {rpc::get_properties, "GetProperties"},
    {rpc::modify_settings, "ModifySettings"},
    {rpc::negotiate_protocol, "NegotiateProtocol"},
    {rpc::dump_stacks, "DumpStacks"},
    {rpc::delete_container_state, "DeleteContainerState"},
    {rpc::lifecycle_notification, "LifecycleNotification"},
}};

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

uint64_t get_le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  }
  return v;
}

std::string hex(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", v);
  return text;
}

} // namespace

std::optional<rpc> rpc_of(uint32_t type) {
  if (!is_request(type) && !is_response(type)) {
    return std::nullopt;
  }
  auto proc = type & 0xfffff;
  for (const auto& r : rpc_names) {
    if (static_cast<uint32_t>(r.value) == proc) {
      return r.value;
    }
  }
  return std::nullopt;
}

std::string type_name(uint32_t type) {
  if (type == notify_container) {
    return "Notify(Container)";
  }
  if (auto r = rpc_of(type)) {
    for (const auto& n : rpc_names) {
      if (n.value == *r) {
        return std::string{is_request(type) ? "Request(" : "Response("} + n.name + ")";
      }
    }
  }
  return hex(type);
}

void append_frame(std::string& out, uint32_t type, uint64_t id, std::string_view body) {
  out.reserve(out.size() + header_size + body.size());
  put_u32(out, type);
  put_u32(out, static_cast<uint32_t>(header_size + body.size()));
  put_u64(out, id);
  out.append(body);
}

std::string encode_frame(uint32_t type, uint64_t id, std::string_view body) {
  std::string out;
  append_frame(out, type, id, body);
  return out;
}

std::optional<frame> frame_decoder::next() {
  if (failed() || buffered() < header_size) {
    return std::nullopt;
  }
  auto size = static_cast<uint32_t>(get_le(buffer_, offset_ + 4, 4));
  if (size < header_size || size > max_size_) {
    error_ = "bridge read failed: invalid message size " + std::to_string(size);
    return std::nullopt;
  }
  if (buffered() < size) {
    return std::nullopt;
  }
  frame f;
  f.type = static_cast<uint32_t>(get_le(buffer_, offset_, 4));
  f.id = get_le(buffer_, offset_ + 8, 8);
  f.body = buffer_.substr(offset_ + header_size, size - header_size);
  offset_ += size;
  // Drop consumed bytes once they dominate, keeping appends cheap.
  if (offset_ > 4096 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return f;
}

std::string frame_decoder::at_eof() const {
  if (failed()) {
    return error_;
  }
  return buffered() == 0 ? std::string{} : std::string{"bridge read failed: unexpected EOF"};
}

} // namespace uvm::bridge
