// libFuzzer target for the stdio mux's frame decoder: any byte stream, fed
// in chunks whose size the input chooses, must yield only frames within the
// format's limits, each exactly the bytes at its place in the stream; after
// a malformed frame the decoder yields nothing more. Never a crash or leak.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "bridge/stdio_mux_frame.hpp"

using namespace uvm::bridge;

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

bool within_limits(const mux_frame& f) {
  switch (f.type) {
  case mux_frame_type::open:
  case mux_frame_type::accept:
  case mux_frame_type::end:
    return f.payload.empty();
  case mux_frame_type::data:
    return !f.payload.empty() && f.payload.size() <= mux_max_data;
  case mux_frame_type::credit:
    return f.payload.size() == 4 && mux_credit_bytes(f) >= 1 && mux_credit_bytes(f) <= mux_window;
  case mux_frame_type::reset:
    return f.payload.size() <= mux_max_reason;
  }
  return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t chunk = 1 + data[0] % 64;
  const auto* bytes = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  mux_decoder d;
  size_t consumed = 0;
  for (size_t i = 0; i < n; i += chunk) {
    d.feed(bytes + i, std::min(chunk, n - i));
    while (auto f = d.next()) {
      check(!d.failed());
      check(f->port != 0);
      check(within_limits(*f));
      std::string again;
      append_mux_frame(again, f->type, f->port, f->payload);
      check(consumed + again.size() <= n);
      check(again == std::string(bytes + consumed, again.size()));
      consumed += again.size();
    }
  }
  if (d.failed()) {
    check(!d.next());
    check(d.error().rfind("malformed stdio mux frame: ", 0) == 0);
  }
  return 0;
}
