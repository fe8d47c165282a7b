// The GCS bridge wire format (gcs-bridge.md §2-§4): a 16-byte little-endian
// header (type, total size, id) and a JSON body; message types and their
// names; an incremental frame decoder with the host's receive limit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uvm::bridge {

constexpr uint32_t header_size = 16;
// The host's receive limit, header included (§2).
constexpr uint32_t max_message_size = 0x10000;

constexpr uint32_t class_mask = 0xf0000000;
constexpr uint32_t class_request = 0x10000000;
constexpr uint32_t class_response = 0x20000000;
constexpr uint32_t class_notify = 0x30000000;
constexpr uint32_t category_compute = 0x00100000;
constexpr uint32_t class_category_mask = 0xfff00000;

// The RPCs of the compute-system category (`Type & 0xfffff`, version 1).
enum class rpc : uint32_t {
  create = 0x101,
  start = 0x201,
  shutdown_graceful = 0x301,
  shutdown_forced = 0x401,
  execute_process = 0x501,
  wait_for_process = 0x601,
  signal_process = 0x701,
  resize_console = 0x801,
  get_properties = 0x901,
  modify_settings = 0xa01,
  negotiate_protocol = 0xb01,
  dump_stacks = 0xc01,
  delete_container_state = 0xd01,
  lifecycle_notification = 0xe01,
};

constexpr uint32_t request_type(rpc r) {
  return class_request | category_compute | static_cast<uint32_t>(r);
}
constexpr uint32_t response_type(rpc r) {
  return class_response | category_compute | static_cast<uint32_t>(r);
}
// A response's type: the request's with the class nibble set to 2.
constexpr uint32_t response_type_for(uint32_t request) {
  return (request & ~class_mask) | class_response;
}
// The container notification (guest -> host, id 0).
constexpr uint32_t notify_container = class_notify | category_compute | 0x101;

constexpr bool is_request(uint32_t type) {
  return (type & class_category_mask) == (class_request | category_compute);
}
constexpr bool is_response(uint32_t type) {
  return (type & class_category_mask) == (class_response | category_compute);
}
constexpr bool is_notification(uint32_t type) {
  return (type & class_category_mask) == (class_notify | category_compute);
}
// The RPC of a request or response type, if it is one we know.
std::optional<rpc> rpc_of(uint32_t type);

// "Request(Create)", "Response(ModifySettings)", "Notify(Container)", or
// "0x<hex>" for anything else, as the host names types in its errors.
std::string type_name(uint32_t type);

struct frame {
  uint32_t type = 0;
  uint64_t id = 0;
  std::string body;
};

// Header + body, ready to write.
std::string encode_frame(uint32_t type, uint64_t id, std::string_view body);
// The same frame appended to `out` (several frames, one write).
void append_frame(std::string& out, uint32_t type, uint64_t id, std::string_view body);

// Splits a byte stream into frames. After a protocol error it stays failed
// and yields nothing more; the error text is the host's (§11).
class frame_decoder {
public:
  explicit frame_decoder(uint32_t max_size = max_message_size) : max_size_(max_size) {}

  void feed(const char* data, size_t size) { buffer_.append(data, size); }
  // The next complete frame, if any; std::nullopt with failed() set on an
  // invalid size.
  std::optional<frame> next();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // At end of stream: the error for bytes of a frame left unread, or "".
  std::string at_eof() const;
  size_t buffered() const { return buffer_.size() - offset_; }

private:
  uint32_t max_size_;
  std::string buffer_;
  size_t offset_ = 0;
  std::string error_;
};

} // namespace uvm::bridge
