// A process's stdio across nodes: an endpoint actor on each side pumps the
// streams (actors/core/stdio_pump.hpp) as stdio_data / stdio_eof /
// stdio_credit messages (messages/caf/remote_calls.hpp) to the other
// endpoint and takes them only from it. The node's endpoint serves the
// process's channels; the client's endpoint serves the other ends of
// channels it makes for the caller, so that a remote process's handle has
// the same stdio channels as a local one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "bridge/stdio_relay.hpp"
#include "messages/caf/remote_calls.hpp"

namespace uvm {

// The node's side: pumps `stdio` once a client endpoint attaches
// (stdio_attach_atom), for that client only. Unattached after
// `attach_timeout`, or when the client endpoint ends, it closes the
// channels and tells `vm` to forget the process.
caf::actor spawn_node_stdio(caf::actor_system& sys, std::shared_ptr<bridge::process_stdio> stdio,
                            utility_vm_actor vm, std::string container_id, uint32_t pid,
                            std::chrono::milliseconds attach_timeout);

// Tells a node endpoint that the client it waits for is gone: one not
// attached yet gives up now instead of at its attach timeout.
void stdio_client_gone(const caf::actor& node_endpoint);

// The client's side: channels in `dir` (ports from `next_port`) for the
// streams `p` has, pumped to and from the node's endpoint.
result<process_started> attach_client_stdio(caf::actor_system& sys, const remote_process& p,
                                            const std::string& dir,
                                            std::atomic<uint32_t>& next_port,
                                            const std::function<void(const caf::actor&)>& spawned);

} // namespace uvm
