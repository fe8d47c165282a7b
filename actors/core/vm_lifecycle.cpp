#include "actors/core/vm_lifecycle.hpp"

namespace uvm {

error state_error(const std::string& id, lifecycle_state s, const char* what) {
  return error{errc::invalid_state,
               std::string{"utility VM "} + id + " is " + to_string(s) + ": cannot " + what};
}

error vm_lifecycle::begin_start() {
  if (state_ == lifecycle_state::exited) {
    return exited_error();
  }
  if (state_ != lifecycle_state::created) {
    return state_error(id_, state_, "start");
  }
  state_ = lifecycle_state::starting;
  return {};
}

void vm_lifecycle::start_succeeded() {
  if (state_ == lifecycle_state::starting) {
    state_ = lifecycle_state::running;
    was_started_ = true;
  }
}

void vm_lifecycle::start_failed() {
  if (state_ == lifecycle_state::starting) {
    state_ = lifecycle_state::created;
  }
}

bool vm_lifecycle::begin_stop() {
  switch (state_) {
  case lifecycle_state::created:
  case lifecycle_state::starting:
  case lifecycle_state::running:
    state_ = lifecycle_state::stopping;
    return true;
  case lifecycle_state::stopping:
    return true;
  default:
    return false;
  }
}

void vm_lifecycle::on_exit(bool unexpected, std::string exit_error) {
  if (has_exited() || state_ == lifecycle_state::closed) {
    return;
  }
  // An exit while stopping was asked for, whatever status it carries.
  if (state_ == lifecycle_state::stopping || !unexpected) {
    state_ = lifecycle_state::stopped;
    exit_error_.clear();
    return;
  }
  state_ = lifecycle_state::exited;
  exit_error_ = std::move(exit_error);
}

void vm_lifecycle::restart() {
  state_ = lifecycle_state::created;
  exit_error_.clear();
  ++restarts_;
}

error vm_lifecycle::exit_error() const {
  if (!exit_error_.empty()) {
    return error{errc::hcs_failure, exit_error_};
  }
  if (state_ == lifecycle_state::stopped || state_ == lifecycle_state::closed) {
    return {};
  }
  return error{errc::not_exited};
}

error vm_lifecycle::exited_error() const {
  return error{errc::vm_exited, "utility VM " + id_ + " exited unexpectedly: " + exit_error_};
}

error vm_lifecycle::check_running(const char* what) const {
  if (state_ == lifecycle_state::running) {
    return {};
  }
  if (state_ == lifecycle_state::exited) {
    return exited_error();
  }
  return state_error(id_, state_, what);
}

} // namespace uvm
