#include "actors/core/vm_lifecycle.hpp"

namespace uvm {

error vm_lifecycle::begin_start() {
  if (state() == lifecycle_state::exited) {
    return exited_error();
  }
  if (state() != lifecycle_state::created) {
    return state_error(id(), state(), "start");
  }
  set(lifecycle_state::starting);
  return {};
}

void vm_lifecycle::start_succeeded() {
  if (state() == lifecycle_state::starting) {
    set(lifecycle_state::running);
    was_started_ = true;
  }
}

void vm_lifecycle::start_failed() {
  if (state() == lifecycle_state::starting) {
    set(lifecycle_state::created);
  }
}

bool vm_lifecycle::begin_stop() {
  switch (state()) {
  case lifecycle_state::created:
  case lifecycle_state::starting:
  case lifecycle_state::running:
    set(lifecycle_state::stopping);
    return true;
  case lifecycle_state::stopping:
    return true;
  default:
    return false;
  }
}

void vm_lifecycle::on_exit(bool unexpected, std::string exit_error) {
  if (has_exited() || state() == lifecycle_state::closed) {
    return;
  }
  // An exit while stopping was asked for, whatever status it carries.
  if (state() == lifecycle_state::stopping || !unexpected) {
    set(lifecycle_state::stopped);
    return;
  }
  gate_->set_exited(std::move(exit_error));
  slot_.move_to(lifecycle_state::exited);
  if (metrics_ != nullptr) {
    metrics_->exited_unexpectedly();
  }
}

void vm_lifecycle::restart() {
  gate_ = std::make_shared<vm_gate>(id());
  slot_.move_to(lifecycle_state::created);
  ++restarts_;
  if (metrics_ != nullptr) {
    metrics_->restarted();
  }
}

error vm_lifecycle::exit_error() const {
  if (!gate_->exit_error().empty()) {
    return error{errc::hcs_failure, gate_->exit_error()};
  }
  if (state() == lifecycle_state::stopped || state() == lifecycle_state::closed) {
    return {};
  }
  return error{errc::not_exited};
}

} // namespace uvm
