// Inside the GCS bridge actor (gcs_bridge.hpp): its state and the RPC
// plumbing that the protocol half (gcs_bridge.cpp) and the container and
// process calls (guest_calls.cpp) share. Not for other actors.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/stub_guest.hpp"
#include "actors/core/vm_gate.hpp"
#include "actors/gcs_bridge.hpp"
#include "bridge/guest_link.hpp"
#include "bridge/log_reader.hpp"
#include "bridge/protocol.hpp"
#include "bridge/rpc_messages.hpp"
#include "bridge/stdio_relay.hpp"
#include "bridge/sweep_timer.hpp"

namespace uvm {

using rpc_done = std::function<void(result<bridge::response>)>;

struct pending_rpc {
  uint32_t type = 0;
  std::chrono::steady_clock::time_point deadline;
  rpc_done done;
  metrics::in_flight_rpc counted; // in the in-flight gauge until it ends
};

// A process the host started, until its caller's handle lets it go.
struct guest_process_record {
  std::optional<result<uint32_t>> exit; // the WaitForProcess outcome
  std::vector<caf::typed_response_promise<uint32_t>> waiters;
  std::weak_ptr<bridge::process_stdio> stdio; // aborted when the bridge ends
};

// A container created through this bridge: its exit notification is
// expected exactly once.
struct guest_container_record {
  bool exited = false;
  std::vector<caf::typed_response_promise<caf::ok_atom>> waiters;
};

struct gcs_bridge_state {
  bridge_context ctx;
  std::unique_ptr<bridge::guest_link> link;
  std::shared_ptr<bridge::log_reader> guest_log; // the link's log channel, if any
  // The in-process agent's fault counter and mount table (null otherwise).
  std::shared_ptr<std::atomic<uint32_t>> agent_faults;
  std::shared_ptr<bridge::mount_table> agent_mounts;
  uint64_t next_id = 0;
  std::map<uint64_t, pending_rpc> pending;
  std::set<uint64_t> abandoned; // timed out: a late response is dropped
  // The wake-up for the earliest deadline in `pending`, while one has any.
  bridge::sweep_timer::ticket sweep;
  bool negotiated = false;
  held_calls held; // callers' calls wait while the VM restores its devices
  std::vector<std::function<void()>> after_negotiation;
  std::optional<std::string> closed; // the cause, once the connection is gone
  std::string capabilities;          // as the guest sent them
  uint32_t next_stdio_port = bridge::first_stdio_port;
  bool stdio_dir_made = false;
  std::map<std::pair<std::string, uint32_t>, guest_process_record> processes;
  std::map<std::string, guest_container_record> containers;
  static inline const char* name = "uvm_gcs_bridge";

  ~gcs_bridge_state();
};

using bridge_pointer = bridge_child::stateful_pointer<gcs_bridge_state>;

// "bridge closed: <cause>".
error closed_error(const std::string& cause);
// A failed response as hcsshim's client words it: "guest RPC failure: ...".
error rpc_failure(const bridge::response& r);
// Sends one request; `done` hears the response, the deadline or the end of
// the connection. Without a deadline only the end of the connection stops
// the wait (WaitForProcess, §7.6).
void send_rpc(bridge_pointer self, bridge::rpc r, const std::string& body, rpc_done done,
              std::optional<std::chrono::milliseconds> deadline);
// Runs `run` once the protocol is negotiated or the bridge is closed.
void when_negotiated(bridge_pointer self, std::function<void()> run);
// Ends the connection for `cause`: pending calls fail, waiters wake.
void close_bridge(bridge_pointer self, const std::string& cause);
// Fails or releases what waits on processes and containers (bridge gone).
void release_guest_waiters(bridge_pointer self, const error& why);
// A container exit notification (§8).
void on_container_notification(bridge_pointer self, const bridge::container_notification& n);

// The handlers of guest_calls.
caf::result<process_started> exec_process(bridge_pointer self, process_request req);
caf::result<uint32_t> wait_process(bridge_pointer self, const std::string& cid, uint32_t pid);
caf::result<bool> signal_process(bridge_pointer self, const std::string& cid, uint32_t pid,
                                 int32_t signal, const std::string& activity);
caf::result<caf::ok_atom> resize_console(bridge_pointer self, const std::string& cid, uint32_t pid,
                                         uint16_t width, uint16_t height,
                                         const std::string& activity);
caf::result<caf::ok_atom> create_container(bridge_pointer self, const std::string& id,
                                           const std::string& config, const std::string& activity);
caf::result<caf::ok_atom> start_container(bridge_pointer self, const std::string& id,
                                          const std::string& activity);
caf::result<caf::ok_atom> stop_container(bridge_pointer self, const std::string& id, bool forced,
                                         const std::string& activity);
caf::result<caf::ok_atom> wait_container(bridge_pointer self, const std::string& id);
caf::result<std::string> dump_stacks(bridge_pointer self, const std::string& activity);
caf::result<caf::ok_atom> delete_container_state(bridge_pointer self, const std::string& id,
                                                 const std::string& activity);
caf::result<guest_capabilities_info> capabilities(bridge_pointer self);

} // namespace uvm
