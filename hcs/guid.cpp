#include "hcs/guid.hpp"

#include <cstdint>
#include <random>

namespace uvm::hcs {

namespace {

std::mt19937_64 seeded_engine() {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  return std::mt19937_64(seq);
}

} // namespace

std::string new_guid() {
  // One engine per thread: no lock, and each is seeded from the OS.
  thread_local std::mt19937_64 engine = seeded_engine();
  uint8_t bytes[16];
  for (int i = 0; i < 16; i += 8) {
    uint64_t r = engine();
    for (int k = 0; k < 8; ++k) {
      bytes[i + k] = static_cast<uint8_t>(r >> (8 * k));
    }
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40); // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 0xF];
  }
  return out;
}

} // namespace uvm::hcs
