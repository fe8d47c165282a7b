// Serves one bridge connection for the guest agent: reads frames, hands
// them to a service, writes its responses and notifications (one writer at
// a time). Ends at end of stream, on a protocol error, or after the host
// shut the null container down. Two transports: descriptors, on the
// calling thread (gcs); a byte stream on the engine's I/O loop (the
// in-process agent: no thread of its own).
#pragma once

#include <memory>
#include <string>

#include "bridge/byte_stream.hpp"
#include "guest/service.hpp"

namespace uvm::guest {

// Returns "" for a clean end, else the reason (e.g. "bridge read failed:
// invalid message size 3"). `shut_down`, when given, says whether the end
// was the host shutting the null container down.
std::string serve_connection(int in_fd, int out_fd, const service_options& opts,
                             bool* shut_down = nullptr);

// Starts serving `stream` and returns: the service lives until the stream
// ends (the host shut it) or the agent ends it; a protocol error goes to
// opts.warn. `log_end`, when given, is the channel opts.log writes to: it
// is shut when the service ends, so the host reads its end.
void serve_stream(std::shared_ptr<bridge::byte_stream> stream, const service_options& opts,
                  std::shared_ptr<bridge::byte_stream> log_end = {});

} // namespace uvm::guest
