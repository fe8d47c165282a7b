// The client's stand-in for one actor of a node (the node itself, a VM, a
// VM's child): a local actor that the engine's handles hold instead of the
// remote proxy. It forwards every call and its reply, wraps the actor
// handles a reply carries in stand-ins of their own, and keeps the calls
// in flight: when the node is lost (its connection closes, or heartbeats
// stop) they all fail at once with "node HOST:PORT lost: <why>", and so
// does every later call, instead of waiting for their timeouts. A process
// start becomes a start on the node whose stdio crosses the network
// (engine/remote_stdio.hpp). Calls go to the node's actor in batches
// (call_batch, messages/caf/remote_calls.hpp): those that arrive while a
// batch is being made join it, so a window of calls in flight costs a
// network message per batch, not per call.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bridge/stdio_relay.hpp"
#include "messages/caf/remote_calls.hpp"

namespace uvm {

// What the stand-ins of one node share.
struct remote_context {
  std::string name; // HOST:PORT
  std::chrono::milliseconds timeout{0};
  std::string stdio_dir; // the client's ends of remote processes' stdio
  std::atomic<uint32_t> next_port{bridge::first_stdio_port};
  std::atomic<bool> lost{false};

  node_actor node() const;
  void set_node(node_actor n);
  void set_stopping();
  bool stopping() const;
  // The error of every call after the node's connection went.
  caf::error lost_error() const;
  // The actors of this link (stand-ins, stdio endpoints): CAF keeps every
  // actor whose handle crossed the network alive while the connection
  // lasts, so the link's end ends them.
  void track(const caf::actor& a);
  void end_all();

private:
  std::vector<caf::actor_addr> members_;
  size_t prune_at_ = 64;
  mutable std::mutex mutex_;
  node_actor node_;
  bool stopping_ = false;
};

// Points a stand-in at a new actor (the node, connected again).
struct remote_retarget {
  caf::actor target;
};

caf::actor spawn_remote_ref(caf::actor_system& sys, std::shared_ptr<remote_context> ctx,
                            caf::actor target);

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::remote_retarget)
