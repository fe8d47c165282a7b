// The GCS bridge child of a utility VM: the host side of the bridge
// protocol (gcs-bridge.md). It owns the connection to the VM's guest agent
// (guest/link: in-process, exec:CMD or unix:PATH), negotiates protocol v4
// first, keeps the table of RPCs in flight with a deadline on each, matches
// responses in any order, and on connection loss fails every pending call
// at once with "bridge closed: <cause>" and tells its VM. The guest "stub"
// answers ModifySettings from the mount table directly, without the
// protocol: the deterministic tests use it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "actors/core/stub_guest.hpp"
#include "bridge/frame_log.hpp"
#include "messages/caf/interfaces.hpp"

namespace uvm {

struct bridge_context {
  std::string vm_id;
  bool external = true;
  std::string guest = "in-process"; // or "stub", "exec:CMD", "unix:PATH"
  std::string stdio_dir;            // the in-process agent's relay sockets
  std::chrono::milliseconds rpc_timeout{std::chrono::minutes(5)};
  std::shared_ptr<bridge::frame_log> log; // may be null
  caf::actor vm;                          // hears bridge_closed_atom
  caf::group bus;                         // container exits are published here
  // Guest "stub": the table the device children share (made here if null).
  std::shared_ptr<stub_guest> stub;
};

gcs_bridge_actor spawn_gcs_bridge(caf::local_actor* parent, bridge_context ctx);

} // namespace uvm
