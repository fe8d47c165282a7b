// One end of a bridge connection as the I/O loop (io_loop.hpp) serves it:
// bytes in, delivered in order on the loop; bytes out, queued without ever
// blocking the writer. Two kinds:
//   - fd_stream: the host's end of a socket to a guest (exec:, unix:, qemu:
//     guests), read and written non-blocking; a guest that stops reading
//     makes its own connection fail once max_queued_bytes wait, never
//     another VM's;
//   - memory_pipe: two connected ends in memory, for the in-process guest:
//     the same protocol bytes as on a socket, no descriptor, no thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "bridge/io_loop.hpp"
#include "messages/errors.hpp"

namespace uvm::bridge {

class byte_stream {
public:
  struct handlers {
    // What arrived; never two calls at once, in the order it was sent.
    std::function<void(std::string_view bytes)> on_bytes;
    // The stream ended: std::nullopt when the peer closed it cleanly, else
    // why it failed ("bridge read failed: ...", "bridge write: ...", "the
    // guest closed the connection (reset)").
    // Last call; the handlers are released after it.
    std::function<void(std::optional<std::string> failure)> on_end;
  };

  virtual ~byte_stream() = default;

  // Starts the deliveries (bytes that came before wait for it).
  virtual void start(handlers h) = 0;
  // Queues `bytes` for the peer, from any thread; false once the stream
  // is shut or ended.
  virtual bool write(std::string bytes) = 0;
  // Ends the stream both ways: the peer sees its end, this end's handlers
  // are released without a call (its owner knows why it ended).
  virtual void shut() = 0;
};

// Bytes a stream may hold for a peer that does not read before the stream
// fails.
constexpr size_t max_queued_bytes = 64u << 20;

// Serves `fd` (a connected socket or a pipe read and written both ways);
// the stream owns it and closes it.
std::shared_ptr<byte_stream> fd_stream(io_loop& loop, int fd);

// Two connected ends.
std::pair<std::shared_ptr<byte_stream>, std::shared_ptr<byte_stream>> memory_pipe(io_loop& loop);

} // namespace uvm::bridge
