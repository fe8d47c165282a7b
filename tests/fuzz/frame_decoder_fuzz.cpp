// libFuzzer target for the bridge's frame decoder: any byte stream, fed in
// chunks whose size the input chooses, must yield only well-formed frames,
// stop for good at the first invalid size, and never crash or leak.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bridge/protocol.hpp"

using uvm::bridge::frame_decoder;
using uvm::bridge::header_size;
using uvm::bridge::max_message_size;

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t chunk = 1 + data[0] % 64;
  const auto* bytes = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  frame_decoder d;
  size_t consumed = 0;
  for (size_t i = 0; i < n; i += chunk) {
    d.feed(bytes + i, std::min(chunk, n - i));
    while (auto f = d.next()) {
      check(!d.failed());
      check(f->body.size() + header_size <= max_message_size);
      // The frame is exactly the bytes at its place in the stream.
      auto again = uvm::bridge::encode_frame(f->type, f->id, f->body);
      check(again == std::string(bytes + consumed, again.size()));
      consumed += again.size();
    }
  }
  if (d.failed()) {
    check(!d.next());
    check(d.at_eof() == d.error());
  } else {
    check(consumed + d.buffered() == n);
    check(d.at_eof().empty() == (d.buffered() == 0));
  }
  return 0;
}
