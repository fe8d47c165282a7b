// What every device child of a utility VM shares (SCSI, VPMEM, shares,
// network, VPCI, combined layers): its view of the VM (device_env), the
// §4 dispatcher (actors/core/device_steps) with the inbox its completions
// come back through, the callers it still owes a reply, and the handlers
// every child has besides its own calls: its view, the VM's exit and its
// inbox's wake-ups.
//
// A child's state has a member `child` (std::optional<device_child>); its
// handlers serve each call with serve(), which checks the VM's lifecycle
// (the gate: the same words the VM gives), makes the reply and runs the
// call as one turn of the inbox; its behaviour comes from
// device_behavior().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/call_ops.hpp"
#include "actors/core/call_admission.hpp"
#include "actors/core/completion_inbox.hpp"
#include "actors/core/device_steps.hpp"
#include "actors/core/hcs_errors.hpp"
#include "actors/core/vm_gate.hpp"
#include "actors/event_bus.hpp"
#include "actors/internal_calls.hpp"
#include "messages/caf/registration.hpp"
#include "messages/events.hpp"

namespace uvm {

// What a device child knows of its VM.
struct device_env {
  std::string vm_id;
  bool lcow = true;
  // True when the engine runs the GCS bridge itself (LCOW default): guest
  // parts go to `guest`; otherwise HCS forwards them.
  bool external_guest = true;
  std::shared_ptr<hcs::backend> backend;
  std::shared_ptr<guest_backend> guest;
  std::shared_ptr<const vm_gate> gate;
  caf::group bus;
  caf::actor_addr vm; // the only sender of system_exited
  // Every call a child serves holds a place here until it is answered.
  std::shared_ptr<vm_admission> admission;
  // Null when the engine keeps no metrics: then a call costs two tests.
  std::shared_ptr<metrics::engine_metrics> metrics;
};

class device_child {
public:
  // `self` wakes itself (as itself) when a completion or timer is ready.
  template <class Self>
  device_child(Self* self, device_env env)
      : env_(std::move(env)), inbox_(
                                  [addr = self->address()](uint64_t id) {
                                    if (auto me = caf::actor_cast<caf::actor>(addr)) {
                                      caf::send_as(me, me, inbox_ready{id});
                                    }
                                  },
                                  [self](std::chrono::milliseconds delay, uint64_t id) {
                                    self->delayed_send(self, delay, inbox_ready{id});
                                  }),
        steps_({env_.vm_id, env_.external_guest, env_.backend, env_.guest}, inbox_) {}

  device_child(const device_child&) = delete;
  device_child& operator=(const device_child&) = delete;
  // A child that ends without fail_all (its VM ended it) gives back the
  // places of the calls it still owed.
  ~device_child() {
    for (auto& rp : owed_) {
      if (rp.pending()) {
        env_.admission->release();
      }
    }
  }

  const device_env& env() const { return env_; }
  // Held over a restart: from now on the new system's guest and gate.
  void rebind(std::shared_ptr<guest_backend> guest, std::shared_ptr<const vm_gate> gate) {
    steps_.rebind_guest(guest);
    env_.guest = std::move(guest);
    env_.gate = std::move(gate);
  }
  completion_inbox& inbox() { return inbox_; }
  held_calls& held() { return held_; }
  device_steps& steps() { return steps_; }

  // A caller admitted by the VM's admission waits for a reply: if the VM
  // exits first, fail_all answers it; either way its place is given back.
  // Slots are reused, so owing costs no allocation once warm.
  size_t owe(caf::response_promise rp) {
    if (free_.empty()) {
      owed_.push_back(std::move(rp));
      return owed_.size() - 1;
    }
    auto slot = free_.back();
    free_.pop_back();
    owed_[slot] = std::move(rp);
    return slot;
  }
  void paid(size_t slot) {
    if (slot < owed_.size() && owed_[slot].pending()) {
      owed_[slot] = caf::response_promise{};
      free_.push_back(slot);
      env_.admission->release();
    }
  }

  // The VM's system is gone: every caller still waiting learns why, and no
  // continuation runs any more.
  void fail_all(const caf::error& why) {
    inbox_.drop_all();
    auto owed = std::move(owed_);
    owed_.clear();
    free_.clear();
    for (auto& rp : owed) {
      if (rp.pending()) {
        env_.admission->release();
        rp.deliver(why);
      }
    }
  }

private:
  device_env env_;
  completion_inbox inbox_;
  device_steps steps_;
  std::vector<caf::response_promise> owed_;
  std::vector<size_t> free_;
  held_calls held_;
};

// Answers a caller once: with a value (a result<T>) or an error; for
// T = caf::ok_atom with an error, empty for success. Registered as owed,
// so a VM exit answers it first. A plain callable: it becomes a
// std::function only where a handler asks for one.
template <class T, class Self>
class caller_reply {
public:
  static constexpr bool ok_only = std::is_same_v<T, caf::ok_atom>;
  using argument = std::conditional_t<ok_only, const error&, result<T>>;

  caller_reply(Self self, caf::typed_response_promise<T> rp, metrics::call_timer timer)
      : self_(self), rp_(std::move(rp)), id_(self_->state.child->owe(rp_)), timer_(timer) {}

  void operator()(argument r) const {
    self_->state.child->paid(id_);
    if constexpr (ok_only) {
      timer_.finish(!r);
    } else {
      timer_.finish(static_cast<bool>(r));
    }
    if constexpr (ok_only) {
      if (r) {
        rp_.deliver(to_caf_error(r));
      } else {
        rp_.deliver(caf::ok_atom_v);
      }
    } else if (r) {
      rp_.deliver(std::move(*r));
    } else {
      rp_.deliver(to_caf_error(r.err()));
    }
  }

private:
  Self self_;
  mutable caf::typed_response_promise<T> rp_; // delivering marks it answered
  size_t id_;
  metrics::call_timer timer_;
};

// Serves one call of `Atom`: left in the mailbox (caf::skip) while the VM
// holds calls during a restore, to be tried again after each message the
// child handles; the VM's state error when it does not run,
// errc::busy when the VM or the engine has too many calls outstanding;
// otherwise `start(reply)` runs as one turn of the inbox, and the caller
// gets what `reply` is given (a value, or an error; caf::ok_atom calls take
// an error, empty for success). Counted, with its time until that reply,
// when the engine keeps metrics.
template <class T, class Atom, class Self, class Start>
caf::result<T> serve(Self self, Start&& start) {
  auto& child = *self->state.child;
  if (child.held().must_wait(*child.env().gate)) {
    return caf::skip;
  }
  metrics::call_timer timer{child.env().metrics.get(), call_op_of<Atom>};
  if (auto e = child.env().gate->check_running(call_what<Atom>)) {
    timer.finish(false);
    return to_caf_error(e);
  }
  if (auto e = child.env().admission->admit(call_what<Atom>)) {
    timer.finish(false);
    return to_caf_error(e);
  }
  auto rp = self->template make_response_promise<T>();
  child.inbox().turn([&] { start(caller_reply<T, Self>{self, rp, timer}); });
  return rp;
}

// Serves a call of `Atom` that the child's table answers at once: held
// like serve()'s during a restore, so a caller's calls keep their order;
// the VM's state error when it does not run, otherwise what `find()`
// returns (a result<T>).
template <class T, class Atom, class Self, class Find>
caf::result<T> lookup(Self self, Find&& find) {
  const auto& env = self->state.child->env();
  if (self->state.child->held().must_wait(*env.gate)) {
    return caf::skip;
  }
  metrics::call_timer timer{env.metrics.get(), call_op_of<Atom>};
  if (auto e = env.gate->check_running(call_what<Atom>)) {
    timer.finish(false);
    return to_caf_error(e);
  }
  result<T> r = find();
  timer.finish(static_cast<bool>(r));
  if (!r) {
    return to_caf_error(r.err());
  }
  return std::move(*r);
}

// One device to attach again after a restart: what it is (for the error
// that names it) and how its add is sent.
struct restore_step {
  std::string what;
  std::function<void(device_steps::done_fn)> run;
};

// The usual restore step: the device's add request, sent again.
template <class Self>
restore_step restore_add(Self self, std::string what, hcs::device_request request) {
  return {std::move(what), [self, request = std::move(request)](device_steps::done_fn done) {
            self->state.child->steps().add(request, "", std::move(done));
          }};
}

// Runs `steps` one after the other from `next`; the first failure ends the
// run with an error naming its device.
template <class Self>
void run_restore(Self self, std::shared_ptr<std::vector<restore_step>> steps, size_t next,
                 std::shared_ptr<caf::typed_response_promise<caf::ok_atom>> rp) {
  if (!rp->pending()) {
    return;
  }
  if (next == steps->size()) {
    rp->deliver(caf::ok_atom_v);
    return;
  }
  (*steps)[next].run([self, steps, next, rp](const error& e) {
    if (e) {
      if (rp->pending()) {
        rp->deliver(to_caf_error(wrap("failed to restore " + (*steps)[next].what, e)));
      }
      return;
    }
    run_restore(self, steps, next + 1, rp);
  });
}

// A child's behaviour: its own calls, plus its table as JSON (`view`), the
// VM's exit (every caller still owed a reply learns why; `forget` drops the
// child's own waiting work; a child held over a restart then settles what
// was in flight with `settle` and stays) and its inbox's wake-ups. A held
// child is adopted by the next system (adopt_system); once that runs,
// `restore()` lists what the table holds, in the order it is sent
// to the new system; calls_released ends the wait of the callers' calls.
template <class Behavior, class Self, class View, class Forget, class Settle, class Restore,
          class... Calls>
Behavior device_behavior(Self self, View view, Forget forget, Settle settle, Restore restore,
                         Calls... calls) {
  // A restore in flight when the new system exits too learns why.
  auto restoring = std::make_shared<caf::typed_response_promise<caf::ok_atom>>();
  return Behavior{calls...,
                  [=](view_atom) -> std::string { return view(); },
                  [=](system_exited& msg) {
                    if (!from_owner(self, self->state.child->env().vm, "system_exited")) {
                      return;
                    }
                    self->state.child->fail_all(msg.why);
                    if (restoring->pending()) {
                      restoring->deliver(msg.why);
                    }
                    forget();
                    if (msg.hold) {
                      settle();
                      return;
                    }
                    self->quit();
                  },
                  [=](adopt_system& msg) {
                    if (from_owner(self, self->state.child->env().vm, "adopt_system")) {
                      self->state.child->rebind(std::move(msg.guest), std::move(msg.gate));
                    }
                  },
                  [=](restore_devices) -> caf::result<caf::ok_atom> {
                    if (!from_owner(self, self->state.child->env().vm, "restore_devices")) {
                      return caf::sec::request_receiver_down;
                    }
                    auto& child = *self->state.child;
                    *restoring = self->template make_response_promise<caf::ok_atom>();
                    auto steps = std::make_shared<std::vector<restore_step>>(restore());
                    auto rp = *restoring;
                    child.inbox().turn([&] { run_restore(self, steps, 0, restoring); });
                    return rp;
                  },
                  [=](calls_released) {
                    if (from_owner(self, self->state.child->env().vm, "calls_released")) {
                      self->state.child->held().release();
                    }
                  },
                  [=](inbox_ready msg) {
                    if (from_owner(self, self->address(), "inbox_ready")) {
                      self->state.child->inbox().deliver(msg.id);
                    }
                  },
                  [=](mailbox_depth_request) -> uint64_t { return self->mailbox().size(); }};
}

// For children with nothing in flight to settle, or nothing to restore.
inline void settle_nothing() {}
inline std::vector<restore_step> restore_nothing() {
  return {};
}

// `where` is the device's place, or what makes it (only made when the bus
// has listeners).
template <class Self, class Where>
void publish_device(Self self, const std::string& activity, const char* kind, const char* action,
                    const std::string& host_path, Where&& where) {
  const auto& env = self->state.child->env();
  publish_event(env.bus, [&] {
    if constexpr (std::is_invocable_v<Where>) {
      return device_event{env.vm_id, activity, kind, action, host_path, where()};
    } else {
      return device_event{env.vm_id, activity, kind, action, host_path, where};
    }
  });
}

} // namespace uvm
