// The host's end of a process's stdio (gcs-bridge.md §9), over unix sockets
// in the vsock model: before ExecuteProcess the host listens on
// "<dir>/port-<P>.sock" for each requested stream, the guest dials each one
// once. Reads and writes wait until the guest has connected. The host
// closes an output stream once it has read its end, so the guest knows all
// of it was consumed. Pure: no actors.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "messages/errors.hpp"

namespace uvm::bridge {

// Relay ports are numbered per bridge connection from this one on.
constexpr uint32_t first_stdio_port = 0x40000001;

class stdio_channel {
public:
  static result<std::unique_ptr<stdio_channel>> listen(const std::string& dir, uint32_t port);
  ~stdio_channel();
  stdio_channel(const stdio_channel&) = delete;
  stdio_channel& operator=(const stdio_channel&) = delete;

  uint32_t port() const { return port_; }
  // The guest's connection, waiting for it; an error once the channel was
  // aborted or closed before the guest dialed.
  result<int> connection();
  // Reading: up to `size` bytes, 0 at the end of the stream (the channel is
  // then closed).
  result<size_t> read(char* data, size_t size);
  error write(std::string_view data);
  // Half-close of the send direction (CloseStdin); done once.
  error close_write();
  // The guest will never dial (its bridge or VM is gone): whoever waits
  // for it, now or later, gets `why`. A connected stream is left alone, so
  // what the guest wrote before it went can still be read.
  void abort(const std::string& why);
  // Ends the channel: listener and connection (a process handle's Close).
  void close();

private:
  stdio_channel() = default;
  void close_locked();

  uint32_t port_ = 0;
  std::string path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // abort() writes here to end a wait for the guest
  std::mutex accept_mutex_; // one wait for the guest at a time
  std::mutex mutex_;
  int conn_fd_ = -1;
  bool write_closed_ = false;
  std::optional<std::string> failed_; // why the channel is unusable
};

// What a finished process wrote, collected by communicate().
struct process_output {
  std::string out;
  std::string err;
};

// The three channels of one process; each may be absent (not requested).
class process_stdio {
public:
  std::unique_ptr<stdio_channel> in, out, err;

  // Writes `input` to stdin and closes it (when stdin exists), while
  // reading stdout and stderr to their ends.
  result<process_output> communicate(std::string_view input);
  // Ends every wait for the guest with `why` (the bridge or the VM is gone).
  void abort(const std::string& why);
  void close();
};

} // namespace uvm::bridge
