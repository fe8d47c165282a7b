// How the host reaches a guest agent: one bridge connection as a byte
// stream on the I/O loop (byte_stream.hpp), made one of four ways:
//   "in-process"  an agent served on the loop, over a memory pipe (the
//                 embedded default: no descriptor, no thread); the caller
//                 supplies the agent (the engine's runs each process in a
//                 sandbox, or not for "in-process-unconfined":
//                 guest/sandbox.hpp);
//   "exec:CMD"    CMD (split in words) started with its stdin/stdout as the
//                 bridge, as hcsshim's guest runs with -use-inouterr;
//   "unix:PATH"   dial an agent listening on a unix socket;
//   "qemu:DIR"    the chardev sockets of a QEMU VM's virtio-serial ports:
//                 the bridge on DIR/gcs.sock, and the stdio relays
//                 multiplexed on DIR/stdio.sock (bridge/stdio_mux.hpp),
//                 which the link serves while it lives.
// Beside the bridge, the agent's log channel (guest/log.hpp), a second
// stream: a memory pipe for an in-process agent, descriptor 3 for an exec:
// agent (named in its environment, log_fd_variable), DIR/log.sock for a
// qemu: VM whose machine has the "log" port. A unix: agent has none.
// Pure (no actors): the host bridge actor reads and writes the stream.
#pragma once

#include "bridge/byte_stream.hpp"
#include "bridge/stdio_mux.hpp"
#include "messages/errors.hpp"
#include <functional>
#include <memory>
#include <string>

namespace uvm::bridge {

// "UVM_STDIO_DIR=<dir>" in an exec: agent's environment: where the host
// listens for its stdio relays (gcs takes it as its --stdio-dir default).
constexpr const char* stdio_dir_variable = "UVM_STDIO_DIR";
// "UVM_LOG_FD=3" in an exec: agent's environment: its log channel (gcs
// writes its logrus JSON lines there instead of to stderr).
constexpr const char* log_fd_variable = "UVM_LOG_FD";
constexpr int exec_log_fd = 3;

class guest_link {
public:
  // Serves the agent's end of one connection until it ends; the agent
  // writes its log to `log_end` and shuts it when it ends.
  using in_process_agent = std::function<void(std::shared_ptr<byte_stream> agent_end,
                                              std::shared_ptr<byte_stream> log_end)>;

  struct options {
    // Required: where the connection is served.
    io_loop* loop = nullptr;
    // Where the host listens for stdio relays: told to exec: agents, served
    // by a qemu: link's stdio mux.
    std::string stdio_dir;
    // Required for "in-process".
    in_process_agent agent;
  };

  ~guest_link();
  guest_link(const guest_link&) = delete;
  guest_link& operator=(const guest_link&) = delete;

  // The host's end of the bridge; start it to read.
  byte_stream& stream() { return *stream_; }
  // The host's end of the agent's log channel; null when it has none.
  // Start it to read.
  std::shared_ptr<byte_stream> log_stream() const { return log_stream_; }
  const std::string& spec() const { return spec_; }
  // Ends the connection: the agent sees end of stream. The log channel is
  // left to end with the agent (bridge/log_reader.hpp bounds the wait).
  void shut();

  static result<std::unique_ptr<guest_link>> open(const std::string& spec, const options& opts);

private:
  guest_link() = default;

  std::string spec_;
  std::shared_ptr<byte_stream> stream_;
  std::shared_ptr<byte_stream> log_stream_;
  int child_pid_ = -1;
  std::unique_ptr<stdio_mux> stdio_mux_; // qemu: only
};

} // namespace uvm::bridge
