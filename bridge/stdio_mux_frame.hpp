// The frames of the stdio mux (stdio_mux.hpp): many relay streams over one
// byte stream. A stream is named by its relay port P (gcs-bridge.md §9).
//
// Every frame is a 12-byte little-endian header and a payload:
//
//   offset  size  field
//   0       2     magic   0x4d58 (bytes 'X' 'M')
//   2       1     type    see mux_frame_type
//   3       1     flags   0 (anything else is malformed)
//   4       4     port    the stream, never 0
//   8       4     length  payload bytes, limited per type (below)
//   12      ...   payload
//
//   open    guest -> host, empty: dial port P.
//   accept  host -> guest, empty: the host reached P; the stream is up.
//   data    either way, 1..65536 bytes, never more than the receiver's
//           credit for that stream and direction.
//   end     either way, empty: the sender sends no more data (half close).
//   credit  either way, 4 bytes u32 n, 1..65536: the receiver passed n more
//           bytes on; the sender may send n more. Each direction of each
//           stream starts with mux_window bytes of credit.
//   reset   either way, 0..1024 bytes of reason text: the stream is gone in
//           both directions (the host could not dial P, a reader vanished).
//
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uvm::bridge {

constexpr uint16_t mux_magic = 0x4d58;
constexpr size_t mux_header_size = 12;
constexpr uint32_t mux_max_data = 65536;
constexpr uint32_t mux_window = 65536; // the credit each direction starts with
constexpr uint32_t mux_max_reason = 1024;

enum class mux_frame_type : uint8_t {
  open = 1,
  accept = 2,
  data = 3,
  end = 4,
  credit = 5,
  reset = 6,
};

struct mux_frame {
  mux_frame_type type = mux_frame_type::data;
  uint32_t port = 0;
  std::string payload; // data bytes, the credit's u32, or a reset's reason
};

// Appends one frame to `out` (several frames, one write). The caller keeps
// to the limits above; a reason longer than mux_max_reason is cut.
void append_mux_frame(std::string& out, mux_frame_type type, uint32_t port,
                      std::string_view payload = {});
void append_mux_credit(std::string& out, uint32_t port, uint32_t bytes);
// The n of a credit frame the decoder accepted.
uint32_t mux_credit_bytes(const mux_frame& f);

// Splits a byte stream into frames. After a malformed frame it stays
// failed and yields nothing more.
class mux_decoder {
public:
  void feed(const char* data, size_t size);
  // The next complete frame, if any; std::nullopt with failed() set on a
  // malformed one.
  std::optional<mux_frame> next();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

private:
  std::string buffer_;
  size_t offset_ = 0;
  std::string error_;
};

} // namespace uvm::bridge
