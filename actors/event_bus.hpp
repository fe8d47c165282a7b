// The engine's event bus: a CAF group ("uvm.events") that delivers to its
// members and nothing else. CAF 0.17's local groups also hand every message
// to a broker actor (for members on other nodes), which cost a mailbox round
// trip per device event even when nobody listened, and under load queued
// events faster than the broker drained them. Publishers ask first whether
// anyone listens, so an engine without listeners builds no events at all.
#pragma once

#include <string>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/group.hpp>
#include <caf/send.hpp>

namespace uvm {

caf::group make_event_bus(caf::actor_system& sys, std::string name);

// True if `bus` has members (any group that is not an event bus counts as
// listened to).
bool has_listeners(const caf::group& bus);

// Ends every membership; the bus delivers nothing afterwards.
void stop_event_bus(const caf::group& bus);

// Sends what `make` returns to the bus's members, if it has any.
template <class Make>
void publish_event(const caf::group& bus, Make&& make) {
  if (has_listeners(bus)) {
    caf::anon_send(bus, std::forward<Make>(make)());
  }
}

} // namespace uvm
