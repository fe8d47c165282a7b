// The node's side of remote engines (uvmd): the actor it publishes
// (node_actor, messages/caf/remote_calls.hpp) over an engine of its own.
// Registry calls go to the engine's registry, exits to its supervisor,
// simulator controls to its simulator; every subscriber gets the bus's
// events until it ends; a process start keeps the process's stdio here
// and hands out a stdio endpoint (engine/remote_stdio.hpp) instead.
#pragma once

#include <chrono>

#include <caf/all.hpp>

#include "engine/engine.hpp"
#include "messages/caf/remote_calls.hpp"

namespace uvm {

// The node is stopping: it tells its clients (node_stopping), whose calls
// then fail with "node HOST:PORT lost: node shutting down". A local-only
// type, outside the published interface: only the node's process sends it.
struct node_stop {};

// Sends a client the replies that completed since its last batch
// (local-only too).
struct reply_flush {
  caf::actor client;
};

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::node_stop)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::reply_flush)

namespace uvm {

using node_internal = node_actor::extend<caf::reacts_to<node_stop>, caf::reacts_to<reply_flush>>;

// Publish it as node_actor. `eng` must outlive the actor.
node_internal spawn_node(engine& eng);

} // namespace uvm
