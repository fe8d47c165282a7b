// The stdio mux's frames (bridge/stdio_mux_frame): the layout byte for
// byte, round trips of every type split at every byte, and malformed input
// rejected with a clear error instead of a crash.
#include <random>

#include <catch2/catch.hpp>

#include "bridge/stdio_mux_frame.hpp"

using namespace uvm::bridge;

namespace {

std::vector<mux_frame> decode_all(mux_decoder& d, const std::string& bytes, size_t step) {
  std::vector<mux_frame> frames;
  for (size_t i = 0; i < bytes.size(); i += step) {
    d.feed(bytes.data() + i, std::min(step, bytes.size() - i));
    while (auto f = d.next()) {
      frames.push_back(std::move(*f));
    }
  }
  return frames;
}

std::string header(uint8_t type, uint32_t port, uint32_t length, uint8_t flags = 0) {
  std::string h = {'X', 'M', static_cast<char>(type), static_cast<char>(flags)};
  for (uint32_t v : {port, length}) {
    for (int i = 0; i < 4; ++i) {
      h += static_cast<char>((v >> (8 * i)) & 0xff);
    }
  }
  return h;
}

// The decoder's error for `bytes`, fed at once.
std::string rejection(const std::string& bytes) {
  mux_decoder d;
  d.feed(bytes.data(), bytes.size());
  while (d.next()) {
  }
  return d.error();
}

} // namespace

TEST_CASE("a mux frame is a 12-byte little-endian header and its payload", "[stdio_mux]") {
  std::string out;
  append_mux_frame(out, mux_frame_type::data, 0x40000001, "hi");
  CHECK(out == std::string("XM\x03\x00\x01\x00\x00\x40\x02\x00\x00\x00hi", 14));
  out.clear();
  append_mux_credit(out, 7, 65536);
  CHECK(out == std::string("XM\x05\x00\x07\x00\x00\x00\x04\x00\x00\x00\x00\x00\x01\x00", 16));
}

TEST_CASE("every mux frame type survives a round trip split at any byte", "[stdio_mux]") {
  std::string bytes;
  append_mux_frame(bytes, mux_frame_type::open, 1);
  append_mux_frame(bytes, mux_frame_type::accept, 2);
  append_mux_frame(bytes, mux_frame_type::data, 3, std::string(mux_max_data, 'x'));
  append_mux_frame(bytes, mux_frame_type::end, 4);
  append_mux_credit(bytes, 5, 1234);
  append_mux_frame(bytes, mux_frame_type::reset, 6, "dial failed");
  append_mux_frame(bytes, mux_frame_type::reset, 7, std::string(5000, 'r')); // cut to 1024
  for (size_t step : {size_t{1}, size_t{5}, size_t{12}, size_t{4096}, bytes.size()}) {
    mux_decoder d;
    auto frames = decode_all(d, bytes, step);
    REQUIRE_FALSE(d.failed());
    REQUIRE(frames.size() == 7);
    for (uint32_t i = 0; i < 7; ++i) {
      CHECK(frames[i].port == i + 1);
    }
    CHECK(frames[0].type == mux_frame_type::open);
    CHECK(frames[1].type == mux_frame_type::accept);
    CHECK(frames[2].type == mux_frame_type::data);
    CHECK(frames[2].payload == std::string(mux_max_data, 'x'));
    CHECK(frames[3].type == mux_frame_type::end);
    CHECK(frames[4].type == mux_frame_type::credit);
    CHECK(mux_credit_bytes(frames[4]) == 1234);
    CHECK(frames[5].payload == "dial failed");
    CHECK(frames[6].payload.size() == mux_max_reason);
  }
}

TEST_CASE("malformed mux frames are rejected with a clear error", "[stdio_mux]") {
  CHECK(rejection("ZZ" + header(3, 1, 1).substr(2) + "x") ==
        "malformed stdio mux frame: bad magic 0x5a5a");
  CHECK(rejection(header(0, 1, 0)) == "malformed stdio mux frame: unknown type 0");
  CHECK(rejection(header(7, 1, 0)) == "malformed stdio mux frame: unknown type 7");
  CHECK(rejection(header(4, 1, 0, 1)) == "malformed stdio mux frame: flags 1 are not 0");
  CHECK(rejection(header(4, 0, 0)) == "malformed stdio mux frame: port 0");
  CHECK(rejection(header(1, 1, 1) + "x") ==
        "malformed stdio mux frame: bad length 1 for frame type 1");
  CHECK(rejection(header(3, 1, 0)) == "malformed stdio mux frame: bad length 0 for frame type 3");
  // Too long is known from the header alone: no waiting for 4 GiB.
  CHECK(rejection(header(3, 1, 0xffffffff)) ==
        "malformed stdio mux frame: bad length 4294967295 for frame type 3");
  CHECK(rejection(header(5, 1, 3) + "abc") ==
        "malformed stdio mux frame: bad length 3 for frame type 5");
  CHECK(rejection(header(5, 1, 4) + std::string(4, '\0')) ==
        "malformed stdio mux frame: credit 0 outside 1..65536");
  CHECK(rejection(header(6, 1, 1025) + std::string(1025, 'r')) ==
        "malformed stdio mux frame: bad length 1025 for frame type 6");
}

TEST_CASE("a failed mux decoder stays failed and yields nothing more", "[stdio_mux]") {
  mux_decoder d;
  std::string good;
  append_mux_frame(good, mux_frame_type::end, 9);
  auto bytes = good + header(9, 1, 0) + good;
  d.feed(bytes.data(), bytes.size());
  CHECK(d.next());
  CHECK_FALSE(d.next());
  CHECK(d.failed());
  d.feed(good.data(), good.size());
  CHECK_FALSE(d.next());
  CHECK(d.error() == "malformed stdio mux frame: unknown type 9");
}

TEST_CASE("random bytes never crash the mux decoder", "[stdio_mux]") {
  std::mt19937 rng{42};
  for (int round = 0; round < 2000; ++round) {
    std::string bytes;
    // Mostly valid headers with random fields, so that decoding gets deep.
    for (int i = 0; i < 4; ++i) {
      bytes += header(static_cast<uint8_t>(rng() % 8), rng() % 3, rng() % 40,
                      static_cast<uint8_t>(rng() % 8 == 0));
      bytes += std::string(rng() % 40, static_cast<char>(rng()));
    }
    mux_decoder d;
    for (size_t i = 0; i < bytes.size(); i += 7) {
      d.feed(bytes.data() + i, std::min<size_t>(7, bytes.size() - i));
      while (d.next()) {
      }
    }
  }
  SUCCEED();
}
