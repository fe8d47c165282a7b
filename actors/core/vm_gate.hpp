// The lifecycle state of one created system as the VM's children read it.
// The VM's lifecycle (vm_lifecycle) keeps its state here and nowhere else;
// the children, which callers may address directly, check it before every
// call and answer exactly what the VM would. One gate per created system:
// once the system has exited the gate never changes again (a restart makes
// a new one), so a child can read it from any thread.
#pragma once

#include <atomic>
#include <string>

#include "messages/errors.hpp"
#include "messages/vm_types.hpp"

namespace uvm {

// What a call that needs a running VM gets in state `s` (not exited):
// "utility VM <id> is <state>: cannot <what>".
error state_error(const std::string& id, lifecycle_state s, const char* what);

class vm_gate {
public:
  explicit vm_gate(std::string id) : id_(std::move(id)) {}

  const std::string& id() const { return id_; }
  lifecycle_state state() const { return state_.load(std::memory_order_acquire); }
  // The exit's text, once state() is `exited`.
  const std::string& exit_error() const { return exit_error_; }

  // Only the VM writes.
  void set(lifecycle_state s) { state_.store(s, std::memory_order_release); }
  // While a restarted system's devices are attached again, the calls of
  // callers wait (the children leave them in their mailboxes) so that none
  // runs on a half-restored VM. Returns whether calls were held before.
  bool hold_calls(bool on) { return holding_calls_.exchange(on, std::memory_order_acq_rel); }
  void set_exited(std::string exit_error) {
    exit_error_ = std::move(exit_error);
    set(lifecycle_state::exited);
  }

  // The error pending and later calls get once the system exited
  // unexpectedly: it names the exit.
  error exited_error() const;
  // Guards device and guest calls: only a running VM takes them.
  error check_running(const char* what) const;
  // True while callers' calls must wait: the system runs and its devices
  // are being attached again.
  bool holds_calls() const {
    return holding_calls_.load(std::memory_order_acquire) && state() == lifecycle_state::running;
  }

private:
  std::string id_;
  std::string exit_error_;
  std::atomic<lifecycle_state> state_{lifecycle_state::created};
  std::atomic<bool> holding_calls_{false};
};

// An actor's side of vm_gate::holds_calls. Once one caller's call waits,
// later ones wait too until calls_released, even if the gate let go
// meanwhile: CAF tries the waiting ones again only after the next message,
// and a caller's calls must keep their order.
class held_calls {
public:
  bool must_wait(const vm_gate& gate) {
    waiting_ = waiting_ || gate.holds_calls();
    return waiting_;
  }
  void release() { waiting_ = false; }

private:
  bool waiting_ = false;
};

} // namespace uvm
