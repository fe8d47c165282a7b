// Writing a whole buffer to a socket or pipe without ever raising SIGPIPE
// in the process: a peer that went away is a failed write, not the end of
// the engine that embeds the agent.
#pragma once

#include <cstddef>
#include <string>

namespace uvm::bridge {

// False when the peer is gone or the write failed (errno says why).
bool write_fully(int fd, const char* data, size_t size);
inline bool write_fully(int fd, const std::string& data) {
  return write_fully(fd, data.data(), data.size());
}

// For threads that write to pipes (no MSG_NOSIGNAL there): SIGPIPE stays
// blocked on the calling thread, so a closed pipe is EPIPE.
void block_sigpipe_on_this_thread();

} // namespace uvm::bridge
