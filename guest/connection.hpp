// Serves one bridge connection for the guest agent: reads frames from
// `in_fd`, hands them to a service, writes its responses and notifications
// to `out_fd` (one writer at a time). Ends at end of stream, on a protocol
// error, or after the host shut the null container down.
#pragma once

#include <string>

#include "guest/service.hpp"

namespace uvm::guest {

// Returns "" for a clean end, else the reason (e.g. "bridge read failed:
// invalid message size 3"). `shut_down`, when given, says whether the end
// was the host shutting the null container down.
std::string serve_connection(int in_fd, int out_fd, const service_options& opts,
                             bool* shut_down = nullptr);

} // namespace uvm::guest
