// Reads a guest's log channel (guest_link::log_stream) on the I/O loop and
// feeds its bytes to the VM's output handler as they arrive (no thread,
// no blocking read). The handler hears each chunk, then exactly one end,
// never two calls at once: at the channel's end, or when the reader is
// stopped or destroyed, whichever comes first (an engine torn down within
// a VM's grace still has its handler say what it cut).
//
// The channel normally ends with the guest (the in-process agent shuts it,
// an exec: agent's descriptor closes when it exits, a QEMU VM's socket
// when QEMU does). A guest whose channel outlives it (a child still holding
// the descriptor) is cut `grace` after the VM is gone: finish_within.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "bridge/byte_stream.hpp"
#include "bridge/io_loop.hpp"
#include "messages/options.hpp"

namespace uvm::bridge {

// How long a VM's log channel may outlive its bridge.
constexpr std::chrono::milliseconds log_grace{1000};

class log_reader : public std::enable_shared_from_this<log_reader> {
public:
  static std::shared_ptr<log_reader> start(io_loop& loop, std::shared_ptr<byte_stream> channel,
                                           output_handler handler);

  // The VM is gone: the channel may still deliver what is on its way for
  // `grace`, then it is cut.
  void finish_within(std::chrono::milliseconds grace);
  // Cuts the channel now.
  void stop();
  bool ended() const;

  log_reader(io_loop& loop, std::shared_ptr<byte_stream> channel, output_handler handler);
  ~log_reader();
  log_reader(const log_reader&) = delete;
  log_reader& operator=(const log_reader&) = delete;

private:
  void deliver(std::string_view bytes);
  void end();

  io_loop& loop_;
  std::shared_ptr<byte_stream> channel_;
  mutable std::mutex mutex_; // one handler call at a time
  output_handler handler_;   // released after its end call
  bool ended_ = false;
};

} // namespace uvm::bridge
