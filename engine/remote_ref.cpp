#include "engine/remote_ref.hpp"

#include <algorithm>
#include <map>

#include "actors/core/batch_queue.hpp"
#include "engine/remote_stdio.hpp"
#include "messages/caf/registration.hpp"

namespace uvm {

node_actor remote_context::node() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return node_;
}

void remote_context::set_node(node_actor n) {
  std::lock_guard<std::mutex> lock{mutex_};
  node_ = std::move(n);
  stopping_ = false;
}

void remote_context::set_stopping() {
  std::lock_guard<std::mutex> lock{mutex_};
  stopping_ = true;
}

bool remote_context::stopping() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return stopping_;
}

caf::error remote_context::lost_error() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return to_caf_error(
      error{errc::io_failure,
            "node " + name + " lost: " + (stopping_ ? "node shutting down" : "connection lost")});
}

void remote_context::track(const caf::actor& a) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (members_.size() >= prune_at_) {
    std::vector<caf::actor_addr> alive;
    for (auto& m : members_) {
      if (caf::actor_cast<caf::actor>(m)) {
        alive.push_back(std::move(m));
      }
    }
    members_ = std::move(alive);
    prune_at_ = std::max<size_t>(64, members_.size() * 2);
  }
  members_.push_back(a.address());
}

void remote_context::end_all() {
  std::vector<caf::actor_addr> all;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    all.swap(members_);
  }
  for (auto& m : all) {
    if (auto h = caf::actor_cast<caf::actor>(m)) {
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    }
  }
}

namespace {

// Sends the calls queued since the last flush (a message to itself).
struct ref_flush {};

} // namespace

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::ref_flush)

namespace uvm {

namespace {

struct ref_state {
  std::shared_ptr<remote_context> ctx;
  caf::actor target;
  std::map<uint64_t, caf::response_promise> pending;
  uint64_t next_id = 0;
  caf::error gone;                            // set once the target is gone: every call's answer
  batch_queue<remote_call> outbox{max_batch}; // calls for the node's next batch
  static inline const char* name = "remote_ref";
};

using ref_actor = caf::stateful_actor<ref_state>;

template <class... Ts>
void answer(ref_actor* self, uint64_t id, Ts&&... xs) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end()) {
    return; // failed already: the node was lost
  }
  auto rp = std::move(i->second);
  self->state.pending.erase(i);
  rp.deliver(std::forward<Ts>(xs)...);
}

caf::behavior remote_ref(ref_actor* self, std::shared_ptr<remote_context> ctx, caf::actor target);

caf::actor wrap(ref_actor* self, const caf::actor& target) {
  if (!target) {
    return target;
  }
  auto ref = self->spawn(remote_ref, self->state.ctx, target);
  self->state.ctx->track(ref);
  return ref;
}

template <class Handle>
Handle wrap_as(ref_actor* self, const Handle& h) {
  return caf::actor_cast<Handle>(wrap(self, caf::actor_cast<caf::actor>(h)));
}

// A reply from the node, passed on; actor handles in it become stand-ins.
void pass_reply(ref_actor* self, remote_reply& r) {
  auto& m = r.content;
  if (m.match_elements<utility_vm_actor, vm_info>()) {
    answer(self, r.id, wrap_as(self, m.get_as<utility_vm_actor>(0)), m.get_as<vm_info>(1));
  } else if (m.match_elements<utility_vm_actor>()) {
    answer(self, r.id, wrap_as(self, m.get_as<utility_vm_actor>(0)));
  } else if (m.match_elements<vm_devices>()) {
    const auto& d = m.get_as<vm_devices>(0);
    answer(self, r.id,
           vm_devices{wrap_as(self, d.scsi), wrap_as(self, d.vpmem), wrap_as(self, d.shares),
                      wrap_as(self, d.network), wrap_as(self, d.vpci), wrap_as(self, d.layers),
                      wrap_as(self, d.guest)});
  } else {
    answer(self, r.id, std::move(m));
  }
}

void send_calls(ref_actor* self, std::vector<remote_call> calls) {
  if (calls.empty()) {
    return;
  }
  if (auto node = self->state.ctx->node()) {
    self->send(node, call_batch{std::move(calls)});
  }
}

// Queues a call for the node; the calls queued by the time the flush comes
// round leave as one batch (or as soon as a batch is full).
void queue_call(ref_actor* self, uint64_t id, bool wants_reply, caf::message content) {
  auto& st = self->state;
  st.outbox.push(
      remote_call{id, wants_reply, st.target, std::move(content)},
      [self](std::vector<remote_call> calls) { send_calls(self, std::move(calls)); },
      [self] { self->send(self, ref_flush{}); });
}

// CreateProcess: started on the node, its stdio pumped to channels here.
void start_process(ref_actor* self, uint64_t id, const process_request& req) {
  auto ctx = self->state.ctx;
  self->request(ctx->node(), caf::duration{ctx->timeout}, remote_exec_atom_v,
                caf::actor_cast<utility_vm_actor>(self->state.target), req)
      .then(
          [self, id, ctx](remote_process& p) {
            auto started = attach_client_stdio(self->system(), p, ctx->stdio_dir, ctx->next_port,
                                               [ctx](const caf::actor& a) { ctx->track(a); });
            if (!started) {
              answer(self, id, to_caf_error(started.err()));
            } else {
              answer(self, id, std::move(*started));
            }
          },
          [self, id](caf::error& e) { answer(self, id, std::move(e)); });
}

caf::behavior remote_ref(ref_actor* self, std::shared_ptr<remote_context> ctx, caf::actor target) {
  self->state.ctx = std::move(ctx);
  self->state.target = std::move(target);
  self->monitor(self->state.target);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.target.address()) {
      return;
    }
    // A lost connection takes every proxy of the node down with this
    // reason, and a stopping node ends its actors; any other end is the
    // actor's own (a closed VM).
    st.gone = dm.reason == caf::exit_reason::remote_link_unreachable || st.ctx->stopping()
                  ? st.ctx->lost_error()
                  : caf::make_error(caf::sec::request_receiver_down);
    auto pending = std::move(st.pending);
    st.pending.clear();
    st.outbox.take(); // not sent: their callers get `gone` below
    for (auto& [id, rp] : pending) {
      rp.deliver(st.gone);
    }
  });
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view& xs) -> caf::result<caf::message> {
        auto& st = self->state;
        bool is_request = self->current_mailbox_element()->mid.is_request();
        if (st.gone) {
          if (is_request) {
            return st.gone;
          }
          return caf::message{};
        }
        auto msg = xs.move_content_to_message();
        if (!is_request) {
          queue_call(self, 0, false, std::move(msg));
          return caf::message{};
        }
        auto rp = self->make_response_promise();
        auto id = st.next_id++;
        st.pending.emplace(id, rp);
        if (msg.match_elements<exec_process_atom, process_request>()) {
          start_process(self, id, msg.get_as<process_request>(1));
          return rp;
        }
        // Wait calls have no deadline; the node's loss ends them.
        queue_call(self, id, true, std::move(msg));
        return rp;
      });
  return {
      [self](ref_flush) { send_calls(self, self->state.outbox.flush()); },
      [self](reply_batch& b) {
        for (auto& r : b.replies) {
          pass_reply(self, r);
        }
      },
      [self](remote_retarget& r) {
        auto& st = self->state;
        self->demonitor(st.target);
        st.target = std::move(r.target);
        st.gone = caf::error{};
        self->monitor(st.target);
        return caf::ok_atom_v;
      },
  };
}

} // namespace

caf::actor spawn_remote_ref(caf::actor_system& sys, std::shared_ptr<remote_context> ctx,
                            caf::actor target) {
  auto ref = sys.spawn(remote_ref, ctx, std::move(target));
  ctx->track(ref);
  return ref;
}

} // namespace uvm
