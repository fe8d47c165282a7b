// The bridge's framing: the negotiate vector byte for byte, type names,
// and the decoder on split, oversized, undersized and truncated input.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <sstream>

#include "bridge/protocol.hpp"

using namespace uvm::bridge;

namespace {

std::string vector_file(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string from_hex(const std::string& text) {
  std::istringstream in(text);
  std::string out, byte;
  while (in >> byte) {
    out += static_cast<char>(std::stoi(byte, nullptr, 16));
  }
  return out;
}

} // namespace

TEST_CASE("bridge: the negotiate frame is the vector's bytes", "[bridge][protocol]") {
  auto body = vector_file("negotiate-protocol-request.body.json");
  auto frame = encode_frame(request_type(rpc::negotiate_protocol), 0, body);
  CHECK(frame == from_hex(vector_file("negotiate-protocol-request.frame.hex")));
  CHECK(frame.size() == 125);

  frame_decoder d;
  d.feed(frame.data(), frame.size());
  auto f = d.next();
  REQUIRE(f);
  CHECK(f->type == 0x10100b01);
  CHECK(f->id == 0);
  CHECK(f->body == body);
  CHECK_FALSE(d.next());
  CHECK(d.at_eof().empty());
}

TEST_CASE("bridge: types, classes and names", "[bridge][protocol]") {
  CHECK(request_type(rpc::create) == 0x10100101);
  CHECK(response_type(rpc::modify_settings) == 0x20100a01);
  CHECK(response_type_for(0x10100601) == 0x20100601);
  CHECK(response_type_for(0x10100e01) == 0x20100e01);
  CHECK(notify_container == 0x30100101);
  CHECK(is_request(0x10100501));
  CHECK_FALSE(is_request(0x20100501));
  CHECK(is_response(0x20100501));
  CHECK(is_notification(0x30100101));
  CHECK_FALSE(is_request(0x10200101)); // another category
  CHECK(type_name(0x10100101) == "Request(Create)");
  CHECK(type_name(0x20100b01) == "Response(NegotiateProtocol)");
  CHECK(type_name(0x30100101) == "Notify(Container)");
  CHECK(type_name(0x10100f01) == "0x10100f01");
  CHECK(rpc_of(0x20100d01) == rpc::delete_container_state);
  CHECK_FALSE(rpc_of(0x30100101));
}

TEST_CASE("bridge: frames split anywhere come out whole and in order", "[bridge][protocol]") {
  std::string stream;
  for (uint64_t id = 1; id <= 50; ++id) {
    stream += encode_frame(request_type(rpc::modify_settings), id,
                           std::string(static_cast<size_t>(id * 37), 'x'));
  }
  for (size_t chunk : {1u, 7u, 16u, 17u, 1000u}) {
    frame_decoder d;
    uint64_t expected = 1;
    for (size_t i = 0; i < stream.size(); i += chunk) {
      d.feed(stream.data() + i, std::min(chunk, stream.size() - i));
      while (auto f = d.next()) {
        CHECK(f->id == expected);
        CHECK(f->body.size() == expected * 37);
        ++expected;
      }
    }
    CHECK(expected == 51);
    CHECK_FALSE(d.failed());
    CHECK(d.buffered() == 0);
  }
}

TEST_CASE("bridge: a size below 16 or above the maximum is a protocol error",
          "[bridge][protocol]") {
  for (uint32_t size : {0u, 15u, 0x10001u, 0xffffffffu}) {
    auto frame = encode_frame(request_type(rpc::start), 3, "{}");
    frame[4] = static_cast<char>(size & 0xff);
    frame[5] = static_cast<char>((size >> 8) & 0xff);
    frame[6] = static_cast<char>((size >> 16) & 0xff);
    frame[7] = static_cast<char>((size >> 24) & 0xff);
    frame_decoder d;
    d.feed(frame.data(), frame.size());
    CHECK_FALSE(d.next());
    REQUIRE(d.failed());
    CHECK(d.error() == "bridge read failed: invalid message size " + std::to_string(size));
    // Failed for good: even a valid frame after it yields nothing.
    auto good = encode_frame(request_type(rpc::start), 4, "{}");
    d.feed(good.data(), good.size());
    CHECK_FALSE(d.next());
    CHECK(d.at_eof() == d.error());
  }
  // Exactly the limit is fine.
  auto big = encode_frame(response_type(rpc::get_properties), 9,
                          std::string(max_message_size - header_size, ' '));
  frame_decoder d;
  d.feed(big.data(), big.size());
  auto f = d.next();
  REQUIRE(f);
  CHECK(f->body.size() == max_message_size - header_size);
}

TEST_CASE("bridge: a stream that ends inside a frame is an unexpected EOF", "[bridge][protocol]") {
  auto frame = encode_frame(request_type(rpc::create), 1, R"({"ContainerId":"c"})");
  for (size_t cut : {size_t{1}, size_t{15}, size_t{16}, frame.size() - 1}) {
    frame_decoder d;
    d.feed(frame.data(), cut);
    CHECK_FALSE(d.next());
    CHECK_FALSE(d.failed());
    CHECK(d.at_eof() == "bridge read failed: unexpected EOF");
  }
}
