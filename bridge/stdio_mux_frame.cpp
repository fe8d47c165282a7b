#include "bridge/stdio_mux_frame.hpp"

#include <cstdio>

namespace uvm::bridge {

namespace {

void put_le(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out += static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

uint32_t get_le(const char* p, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return value;
}

// The payload lengths a type allows, or an empty text when `length` fits.
std::string check_length(mux_frame_type type, uint32_t length) {
  auto fits = [&](uint32_t low, uint32_t high) { return length >= low && length <= high; };
  bool ok = false;
  switch (type) {
  case mux_frame_type::open:
  case mux_frame_type::accept:
  case mux_frame_type::end:
    ok = length == 0;
    break;
  case mux_frame_type::data:
    ok = fits(1, mux_max_data);
    break;
  case mux_frame_type::credit:
    ok = length == 4;
    break;
  case mux_frame_type::reset:
    ok = fits(0, mux_max_reason);
    break;
  }
  return ok ? std::string{}
            : "bad length " + std::to_string(length) + " for frame type " +
                  std::to_string(static_cast<int>(type));
}

} // namespace

void append_mux_frame(std::string& out, mux_frame_type type, uint32_t port,
                      std::string_view payload) {
  if (type == mux_frame_type::reset) {
    payload = payload.substr(0, mux_max_reason);
  }
  put_le(out, mux_magic, 2);
  put_le(out, static_cast<uint32_t>(type), 1);
  put_le(out, 0, 1);
  put_le(out, port, 4);
  put_le(out, static_cast<uint32_t>(payload.size()), 4);
  out.append(payload.data(), payload.size());
}

void append_mux_credit(std::string& out, uint32_t port, uint32_t bytes) {
  std::string n;
  put_le(n, bytes, 4);
  append_mux_frame(out, mux_frame_type::credit, port, n);
}

uint32_t mux_credit_bytes(const mux_frame& f) {
  return get_le(f.payload.data(), 4);
}

void mux_decoder::feed(const char* data, size_t size) {
  if (!failed()) {
    buffer_.append(data, size);
  }
}

std::optional<mux_frame> mux_decoder::next() {
  if (failed() || buffer_.size() - offset_ < mux_header_size) {
    return std::nullopt;
  }
  const char* h = buffer_.data() + offset_;
  auto fail = [&](std::string why) -> std::optional<mux_frame> {
    error_ = "malformed stdio mux frame: " + why;
    buffer_.clear();
    offset_ = 0;
    return std::nullopt;
  };
  if (get_le(h, 2) != mux_magic) {
    char magic[8];
    std::snprintf(magic, sizeof magic, "%04x", get_le(h, 2));
    return fail(std::string{"bad magic 0x"} + magic);
  }
  auto type = get_le(h + 2, 1);
  if (type < 1 || type > 6) {
    return fail("unknown type " + std::to_string(type));
  }
  if (get_le(h + 3, 1) != 0) {
    return fail("flags " + std::to_string(get_le(h + 3, 1)) + " are not 0");
  }
  mux_frame f;
  f.type = static_cast<mux_frame_type>(type);
  f.port = get_le(h + 4, 4);
  if (f.port == 0) {
    return fail("port 0");
  }
  auto length = get_le(h + 8, 4);
  if (auto why = check_length(f.type, length); !why.empty()) {
    return fail(why);
  }
  if (buffer_.size() - offset_ < mux_header_size + length) {
    return std::nullopt;
  }
  f.payload.assign(h + mux_header_size, length);
  if (f.type == mux_frame_type::credit) {
    auto n = mux_credit_bytes(f);
    if (n == 0 || n > mux_window) {
      return fail("credit " + std::to_string(n) + " outside 1.." + std::to_string(mux_window));
    }
  }
  offset_ += mux_header_size + length;
  // Consumed bytes go once they are half the buffer: amortized O(1).
  if (offset_ * 2 >= buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return f;
}

} // namespace uvm::bridge
