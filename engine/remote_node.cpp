#include "engine/remote_node.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "actors/core/batch_queue.hpp"
#include "actors/core/logging.hpp"
#include "engine/remote_stdio.hpp"
#include "engine/sim_control.hpp"

namespace uvm {
namespace {
// Sends a subscriber the events published since the last batch.
struct event_flush {};
} // namespace
} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::event_flush)

namespace uvm {

namespace {

// How long a process's stdio waits for the client that started it.
constexpr std::chrono::seconds stdio_attach_timeout{30};

struct forwarder_state {
  caf::actor subscriber;
  batch_queue<caf::message> events{max_batch}; // not yet sent
  static inline const char* name = "event_forwarder";
};

using forwarder_actor = caf::stateful_actor<forwarder_state>;

void send_events(forwarder_actor* self, std::vector<caf::message> events) {
  if (!events.empty()) {
    self->send(self->state.subscriber, event_batch{std::move(events)});
  }
}

// Sends the bus's events to one subscriber until it ends: those that
// arrive while a batch is being made leave with it, so a burst of events
// (a device call each) costs a network message per batch, not per event.
caf::behavior event_forwarder(forwarder_actor* self, caf::group bus, caf::actor subscriber) {
  self->state.subscriber = subscriber;
  self->join(bus);
  self->monitor(subscriber);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view& xs) -> caf::result<caf::message> {
        self->state.events.push(
            xs.move_content_to_message(),
            [self](std::vector<caf::message> events) { send_events(self, std::move(events)); },
            [self] { self->send(self, event_flush{}); });
        return caf::message{};
      });
  return {
      [self](event_flush) { send_events(self, self->state.events.flush()); },
      [](caf::group_down_msg&) {},
  };
}

struct node_state {
  std::set<caf::actor> clients; // told when the node stops
  // Replies of batched calls not yet sent, by the stand-in that called.
  std::map<caf::actor, batch_queue<remote_reply>> replies;
  std::set<caf::actor_addr> children; // forwarders and stdio endpoints, ended then
  std::map<caf::actor_addr, caf::node_id> stdio_clients; // endpoint -> the node that asked
  metrics::engine_metrics* metrics = nullptr;            // the engine's; null: none kept
  static inline const char* name = "uvm_node";
};

using node_pointer = node_internal::stateful_pointer<node_state>;

bool has_client_on(node_pointer self, const caf::node_id& client_node) {
  const auto& clients = self->state.clients;
  return std::any_of(clients.begin(), clients.end(),
                     [&](const caf::actor& c) { return c.node() == client_node; });
}

// The last client on a node was lost (its connection dropped): the stdio
// endpoints that node asked for and had yet to attach to give up now,
// ending their processes as a dropped handle does, rather than at the
// attach timeout. A node with no client (one that never said hello, or
// lost while its process started) has nobody to attach either.
void give_up_stdio_of(node_pointer self, const caf::node_id& client_node) {
  if (has_client_on(self, client_node)) {
    return;
  }
  for (const auto& [endpoint, asked_by] : self->state.stdio_clients) {
    if (asked_by == client_node) {
      if (auto h = caf::actor_cast<caf::actor>(endpoint)) {
        stdio_client_gone(h);
      }
    }
  }
}

// Every reply type of the interfaces a client's stand-in calls, handed to
// `on_reply` as a message (the target's error too).
template <class F>
caf::behavior any_reply(F on_reply) {
  auto pass = [on_reply](auto&... xs) { on_reply(caf::make_message(std::move(xs)...)); };
  using std::string;
  return {
      [pass](caf::error& x) { pass(x); },
      [pass](caf::ok_atom& x) { pass(x); },
      [pass](string& x) { pass(x); },
      [pass](uint64_t& x) { pass(x); },
      [pass](uint32_t& x) { pass(x); },
      [pass](bool& x) { pass(x); },
      [pass](vm_info& x) { pass(x); },
      [pass](vm_stats& x) { pass(x); },
      [pass](scsi_mount& x) { pass(x); },
      [pass](vsmb_share_handle& x) { pass(x); },
      [pass](plan9_share_handle& x) { pass(x); },
      [pass](guest_capabilities_info& x) { pass(x); },
      [pass](std::vector<vm_info>& x) { pass(x); },
      [pass](std::vector<exit_record>& x) { pass(x); },
      [pass](std::vector<caf::actor_addr>& x) { pass(x); },
      [pass](node_info& x) { pass(x); },
      [pass](utility_vm_actor& vm, vm_info& info) { pass(vm, info); },
      [pass](utility_vm_actor& x) { pass(x); },
      [pass](vm_devices& x) { pass(x); },
  };
}

// Queues a reply for its stand-in; the replies queued by the time the
// flush comes round leave together (or as soon as a batch is full).
void queue_reply(node_pointer self, const caf::actor& client, uint64_t id, caf::message content) {
  auto& replies = self->state.replies;
  auto queued = replies.try_emplace(client, max_batch).first;
  queued->second.push(
      remote_reply{id, std::move(content)},
      [client](std::vector<remote_reply> batch) {
        caf::anon_send(client, reply_batch{std::move(batch)});
      },
      [self, client] { self->send(self, reply_flush{client}); });
}

// Each call goes to its target as the stand-in would have sent it; calls
// have no deadline here (a wait may last), the client's loss of the node
// ends them there.
void run_calls(node_pointer self, call_batch& batch) {
  auto client = caf::actor_cast<caf::actor>(self->current_sender());
  for (auto& c : batch.calls) {
    if (!c.target) {
      if (c.wants_reply && client) {
        queue_reply(self, client, c.id,
                    caf::make_message(caf::make_error(caf::sec::request_receiver_down)));
      }
      continue;
    }
    // What depends on who asked is not relayed by the node to itself: a
    // process start ties its stdio to the asker's node, and a batch's
    // replies go to its sender (our clients send starts directly).
    if (c.target.address() == self->address() &&
        (c.content.match_element<remote_exec_atom>(0) || c.content.match_elements<call_batch>())) {
      if (c.wants_reply && client) {
        queue_reply(self, client, c.id,
                    caf::make_message(to_caf_error(error{
                        errc::bad_request, "process starts and call batches are sent to the node "
                                           "directly, not in a call batch"})));
      }
      continue;
    }
    if (!c.wants_reply || !client) {
      caf::anon_send(c.target, std::move(c.content));
      continue;
    }
    auto h = self->request(c.target, caf::infinite, std::move(c.content));
    self->add_multiplexed_response_handler(h.id(),
                                           any_reply([self, client, id = c.id](caf::message m) {
                                             queue_reply(self, client, id, std::move(m));
                                           }));
  }
}

node_internal::behavior_type node(node_pointer self, engine* eng) {
  self->state.metrics = eng->metrics();
  self->set_down_handler([self](caf::down_msg& dm) {
    self->state.children.erase(dm.source);
    self->state.stdio_clients.erase(dm.source);
    auto& clients = self->state.clients;
    for (auto i = clients.begin(); i != clients.end(); ++i) {
      if (i->address() == dm.source) {
        clients.erase(i);
        if (auto* m = self->state.metrics) {
          m->remote_client_gone();
        }
        give_up_stdio_of(self, dm.source.node());
        break;
      }
    }
  });
  auto reg = eng->registry();
  auto timeout = caf::duration{eng->caller_wait()};
  return {
      [self](call_batch& batch) { run_calls(self, batch); },
      [self](reply_flush& f) {
        auto& replies = self->state.replies;
        auto queued = replies.find(f.client);
        if (queued == replies.end()) {
          return;
        }
        auto batch = queued->second.flush();
        // Nothing is queued for the client now and no flush is asked.
        replies.erase(queued);
        if (!batch.empty()) {
          caf::anon_send(f.client, reply_batch{std::move(batch)});
        }
      },
      [self](node_stop) {
        for (const auto& c : self->state.clients) {
          caf::anon_send(c, node_stopping_atom_v);
        }
        // The actor system waits for every actor: these would wait for
        // their clients, whose connections end only after it.
        for (const auto& child : self->state.children) {
          if (auto h = caf::actor_cast<caf::actor>(child)) {
            caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
          }
        }
      },
      [self, reg](create_atom, options_lcow& o, restart_policy p,
                  std::string& activity) -> caf::delegated<utility_vm_actor, vm_info> {
        return self->delegate(reg, create_atom_v, std::move(o), p, std::move(activity));
      },
      [self, reg](create_atom, options_wcow& o, restart_policy p,
                  std::string& activity) -> caf::delegated<utility_vm_actor, vm_info> {
        return self->delegate(reg, create_atom_v, std::move(o), p, std::move(activity));
      },
      [self, reg](find_atom, std::string& id) -> caf::delegated<utility_vm_actor> {
        return self->delegate(reg, find_atom_v, std::move(id));
      },
      [self, reg](list_atom) -> caf::delegated<std::vector<vm_info>> {
        return self->delegate(reg, list_atom_v);
      },
      [self, eng](hello_atom, const caf::actor& client) -> node_info {
        if (client && self->state.clients.insert(client).second) {
          self->monitor(client);
          if (auto* m = self->state.metrics) {
            m->remote_client_connected();
          }
        }
        return {eng->config().host, eng->config().backend, eng->config().guest};
      },
      [self, eng](exits_atom) -> caf::delegated<std::vector<exit_record>> {
        return self->delegate(caf::actor_cast<supervisor_actor>(eng->supervisor()), exits_atom_v);
      },
      [eng](sim_control_atom, const sim_control& c) -> caf::result<std::string> {
        auto r = apply_sim_control(eng->sim(), c);
        if (!r) {
          return to_caf_error(r.err());
        }
        return *r;
      },
      [self, eng](subscribe_atom, const caf::actor& subscriber) -> caf::result<caf::ok_atom> {
        if (!subscriber) {
          return to_caf_error(error{errc::bad_request, "no subscriber"});
        }
        auto f = self->spawn(event_forwarder, eng->events(), subscriber);
        self->monitor(f);
        self->state.children.insert(f.address());
        return caf::ok_atom_v;
      },
      [self, timeout](remote_exec_atom, const utility_vm_actor& vm,
                      process_request& req) -> caf::result<remote_process> {
        if (!vm) {
          return to_caf_error(error{errc::closed, "utility VM is closed"});
        }
        // Read before the promise, which takes the sender out of the message.
        const auto& sender = self->current_sender();
        auto asked_by = sender ? sender->node() : caf::node_id{};
        auto rp = self->make_response_promise<remote_process>();
        self->request(vm, timeout, exec_process_atom_v, req)
            .then(
                [self, rp, vm, asked_by](process_started& started) mutable {
                  remote_process p{started.container_id, started.pid, false, false, false, {}};
                  if (started.stdio) {
                    p.has_in = started.stdio->in != nullptr;
                    p.has_out = started.stdio->out != nullptr;
                    p.has_err = started.stdio->err != nullptr;
                  }
                  if (p.has_in || p.has_out || p.has_err) {
                    p.stdio =
                        spawn_node_stdio(self->system(), started.stdio, vm, started.container_id,
                                         started.pid, stdio_attach_timeout);
                    self->monitor(p.stdio);
                    self->state.children.insert(p.stdio.address());
                    if (asked_by != self->node()) {
                      self->state.stdio_clients.emplace(p.stdio.address(), asked_by);
                      // Lost while the process started: nobody will attach.
                      give_up_stdio_of(self, asked_by);
                    }
                  }
                  rp.deliver(std::move(p));
                },
                [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
  };
}

} // namespace

node_internal spawn_node(engine& eng) {
  return eng.system().spawn(node, &eng);
}

} // namespace uvm
