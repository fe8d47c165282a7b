// The GCS bridge child of a utility VM: the host side of the bridge
// protocol (gcs-bridge.md). It owns the connection to the VM's guest agent
// (bridge/guest_link: in-process, exec:CMD or unix:PATH) on the engine's
// I/O loop, negotiates protocol v4
// first, keeps the table of RPCs in flight with a deadline on each, matches
// responses in any order, and on connection loss fails every pending call
// at once with "bridge closed: <cause>" and tells its VM. Without a
// connection (HCS holds the guest's, or the VM's guest is the "stub") it
// speaks no protocol: its view shows the stub's mounts. The guest's log
// channel, when its link has one, is read on the I/O loop into the VM's
// output handler, and is given a second to end after the bridge is gone.
//
// Device children send it their guest requests through bridge_guest
// (actors/bridge_guest.hpp); callers may address its guest calls directly
// (vm_devices::guest): it checks the VM's lifecycle before each.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "actors/core/call_admission.hpp"
#include "actors/core/log_rate_limit.hpp"
#include "actors/core/stub_guest.hpp"
#include "actors/core/vm_gate.hpp"
#include "actors/internal_calls.hpp"
#include "bridge/frame_log.hpp"
#include "bridge/io_loop.hpp"
#include "bridge/sweep_timer.hpp"
#include "metrics/engine_metrics.hpp"

namespace uvm {

struct bridge_context {
  std::string vm_id;
  bool external = true;
  std::string guest = "in-process"; // or "stub", "exec:CMD", "unix:PATH"
  std::string stdio_dir;            // the in-process agent's relay sockets
  std::chrono::milliseconds rpc_timeout{std::chrono::minutes(5)};
  std::shared_ptr<bridge::frame_log> log; // may be null
  std::shared_ptr<bridge::io_loop> io;    // serves the connection
  // Wakes the bridge when an RPC's deadline passes (with `io`).
  std::shared_ptr<bridge::sweep_timer> sweeps;
  std::shared_ptr<const vm_gate> gate;
  caf::actor_addr vm; // hears bridge_lost; the only sender of guest requests
  caf::group bus;     // container exits are published here
  // The VM's admission control: every guest call of its callers holds a
  // place until it is answered.
  std::shared_ptr<vm_admission> admission;
  // Guest "stub": the table the device children use (no connection).
  std::shared_ptr<stub_guest> stub;
  std::shared_ptr<metrics::engine_metrics> metrics; // null: none kept
  // Fed the guest's log channel (options_lcow::output); empty: the default
  // handler for vm_id (actors/core/guest_log.hpp), bounded by
  // `guest_log_rate`.
  output_handler output;
  logging::log_rate guest_log_rate;
  // Called once when the guest's log channel has ended, or at once when
  // there is none.
  std::function<void()> output_done;
  // The VM's restarts when this bridge's system was created: after one,
  // the processes and containers of earlier systems are lost, and a call
  // that names one says so.
  uint32_t restarts = 0;
};

bridge_child spawn_gcs_bridge(caf::local_actor* parent, bridge_context ctx);

} // namespace uvm
