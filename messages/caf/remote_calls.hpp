// What crosses the network between a node (`uvmd`) and its clients, besides
// the public interfaces of messages/caf/interfaces.hpp: the node's own
// interface, the simulator controls a scenario uses, and a process's stdio
// as messages with credits (a reader that stops granting credit stops the
// writer). Every type here is registered by register_types().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/typed_actor.hpp>

#include "messages/caf/interfaces.hpp"
#include "messages/options.hpp"

CAF_ADD_ATOM(uvm, uvm, hello_atom, "hello")
CAF_ADD_ATOM(uvm, uvm, subscribe_atom, "subscribe")
CAF_ADD_ATOM(uvm, uvm, sim_control_atom, "sim_ctl")
CAF_ADD_ATOM(uvm, uvm, remote_exec_atom, "rexec")
CAF_ADD_ATOM(uvm, uvm, node_stopping_atom, "node_stop")
CAF_ADD_ATOM(uvm, uvm, stdio_attach_atom, "stdio_att")
CAF_ADD_ATOM(uvm, uvm, stdio_data_atom, "stdio_data")
CAF_ADD_ATOM(uvm, uvm, stdio_eof_atom, "stdio_eof")
CAF_ADD_ATOM(uvm, uvm, stdio_credit_atom, "stdio_cred")

namespace uvm {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, host_info& x) {
  return f(x.logical_cpus, x.os_build, x.executable_name, x.executable_dir, x.log_level,
           x.program_files);
}

// What a node tells a client that says hello: the host its options are
// completed for (default boot files, owner), and how it runs VMs.
struct node_info {
  host_info host;
  std::string backend; // the default HCS backend: sim or qemu
  std::string guest;   // the LCOW guest agent
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(x.host, x.backend, x.guest);
}

// One control of the node's simulated HCS (uvmctl's sim_* scenario ops).
struct sim_control {
  enum class kind : uint8_t {
    fail_next,
    fail_with_probability,
    crash_now,
    crash_after_calls,
    crash_after_delay,
    latency,
    oracle
  };
  kind what = kind::oracle;
  uint8_t call = 0; // hcs::call_kind
  uint32_t count = 0;
  double probability = 0;
  std::string target; // the compute system's id
  int64_t min_us = 0; // latency bounds, or the crash delay
  int64_t max_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sim_control& x) {
  return f(x.what, x.call, x.count, x.probability, x.target, x.min_us, x.max_us);
}

// A process started on a node for a client: its stdio is the node's stdio
// endpoint (see engine/remote_stdio.hpp), which pumps the streams that
// exist once the client attaches its own endpoint.
struct remote_process {
  std::string container_id;
  uint32_t pid = 0;
  bool has_in = false;
  bool has_out = false;
  bool has_err = false;
  caf::actor stdio;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_process& x) {
  return f(x.container_id, x.pid, x.has_in, x.has_out, x.has_err, x.stdio);
}

// Stream numbers of stdio messages.
enum class stdio_stream : uint8_t { in = 0, out = 1, err = 2 };

// Calls to the node's actors travel in batches: a client's stand-in sends
// the calls that queued up while it was busy as one message, and the node
// sends the replies that completed meanwhile as one message back. Under a
// window of calls in flight, that is one network message per batch instead
// of one per call; a single call is a batch of one. A batch holds at most
// max_batch entries (calls, replies or events): a larger burst leaves as
// several, so that no message grows with the caller's window.
constexpr size_t max_batch = 256;

struct remote_call {
  uint64_t id = 0; // the stand-in's, for the reply
  bool wants_reply = false;
  caf::actor target;    // one of the node's actors
  caf::message content; // the call, as the target's interface takes it
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_call& x) {
  return f(x.id, x.wants_reply, x.target, x.content);
}

struct call_batch {
  std::vector<remote_call> calls;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_batch& x) {
  return f(x.calls);
}

struct remote_reply {
  uint64_t id = 0;
  caf::message content; // the target's reply, or its error
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_reply& x) {
  return f(x.id, x.content);
}

struct reply_batch {
  std::vector<remote_reply> replies;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply_batch& x) {
  return f(x.replies);
}

// The node's events for one subscriber, those published since the last
// batch went (in their order on the node's bus).
struct event_batch {
  std::vector<caf::message> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(x.events);
}

// The actor a node publishes: the registry's calls (the VMs it hands out
// are the node's VM actors, answering utility_vm_actor), the supervisor's
// exits, the simulator's controls, the event bus and process starts whose
// stdio crosses the network.
using node_actor = registry_actor::extend<
    // A client introduces its link actor (told when the node stops).
    caf::replies_to<hello_atom, caf::actor>::with<node_info>,
    caf::replies_to<exits_atom>::with<std::vector<exit_record>>,
    // The oracle's JSON for kind::oracle, else "".
    caf::replies_to<sim_control_atom, sim_control>::with<std::string>,
    // The node sends every event of its bus to the actor, in event_batch
    // messages, until it ends.
    caf::replies_to<subscribe_atom, caf::actor>::with<caf::ok_atom>,
    // CreateProcess through the VM (or its guest child) named by the handle.
    caf::replies_to<remote_exec_atom, utility_vm_actor, process_request>::with<remote_process>,
    // Calls to the node's actors; the replies go to the sender as reply_batch.
    caf::reacts_to<call_batch>>;

} // namespace uvm
