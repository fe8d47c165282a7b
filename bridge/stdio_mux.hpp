// Process stdio relays over one byte stream ("vsock over a byte stream").
// A QEMU VM here has no vsock: the guest cannot dial the host's relay
// sockets (stdio_relay.hpp). Instead every relay stream travels over one
// virtio-serial port named "stdio", framed as in stdio_mux_frame.hpp.
//
// Words: the *port* is that shared byte stream (/dev/vportNpM in the guest,
// the unix socket of its chardev on the host); a *stream* is one relay,
// named by its relay port number P; an *endpoint* is one side's stdio_mux.
//
// The guest endpoint's dial(P) returns a local socket that behaves like a
// dialed relay socket (read, write, shutdown(SHUT_WR), close). The host
// endpoint answers each open(P) by dialing "<stdio_dir>/port-P.sock", where
// the host's stdio_channel listens. One thread per endpoint pumps between
// the port and the streams' sockets, never blocking on any of them.
//
// A stream:
//   dialing -(accept)-> open -(end sent, end received and passed on)-> gone
//      \-(reset, or the mux ends)-> gone: the local socket is closed, so
//        its user reads end of stream (or ECONNRESET) and writes fail
//
// Flow control: each direction of each stream has mux_window bytes of
// credit; a slow reader stops only its own stream, and what an endpoint
// holds is bounded (its streams' windows plus a capped queue to the port).
// The mux ends, failing every stream and pending dial, when the port reaches
// end of stream or fails, on a malformed frame, or on stop().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "messages/errors.hpp"

namespace uvm::bridge {

class stdio_mux {
public:
  // The guest's endpoint on `port_fd` (taken over, even on failure);
  // dial() waits up to `dial_timeout` for the host's answer.
  static result<std::unique_ptr<stdio_mux>>
  guest(int port_fd, std::chrono::milliseconds dial_timeout = std::chrono::seconds(10));
  // The host's endpoint on `port_fd` (taken over, even on failure).
  static result<std::unique_ptr<stdio_mux>> host(int port_fd, std::string stdio_dir);
  // stop()
  ~stdio_mux();
  stdio_mux(const stdio_mux&) = delete;
  stdio_mux& operator=(const stdio_mux&) = delete;

  // Guest only: a blocking socket for stream `port` once the host reached
  // it; an error when it could not, the host did not answer in time, or
  // the mux has ended. The caller closes the socket.
  result<int> dial(uint32_t port);
  // Ends the mux and waits for its thread; the peer sees end of stream.
  void stop();
  // Why the mux ended; empty while it runs.
  std::string ended() const;

private:
  struct impl;
  static result<std::unique_ptr<stdio_mux>> start(std::unique_ptr<impl> i);
  explicit stdio_mux(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

} // namespace uvm::bridge
