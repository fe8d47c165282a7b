// Serves one bridge connection for the guest agent: reads frames from
// `in_fd`, hands them to a service, writes its responses and notifications
// to `out_fd` (one writer at a time). Ends at end of stream, on a protocol
// error, or after the host shut the null container down.
#pragma once

#include <string>

#include "guest/service.hpp"

namespace uvm::guest {

// Returns "" for a clean end, else the reason (e.g. "bridge read failed:
// invalid message size 3").
std::string serve_connection(int in_fd, int out_fd, const service_options& opts);

} // namespace uvm::guest
