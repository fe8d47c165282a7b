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
  void set_exited(std::string exit_error) {
    exit_error_ = std::move(exit_error);
    set(lifecycle_state::exited);
  }

  // The error pending and later calls get once the system exited
  // unexpectedly: it names the exit.
  error exited_error() const;
  // Guards device and guest calls: only a running VM takes them.
  error check_running(const char* what) const;

private:
  std::string id_;
  std::string exit_error_;
  std::atomic<lifecycle_state> state_{lifecycle_state::created};
};

} // namespace uvm
