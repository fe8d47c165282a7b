// The utility VM's lifecycle as a plain state machine: which calls a state
// accepts, and what an exit means (hcs-schema.md §2.5, uvm-api.md §5.7).
//
//   created -> starting -> running -> stopping -> stopped
//      \          \           \          \-> (exit while stopping: expected)
//       \----------\-----------\--> exited   (the system stopped on its own)
//   any state -> closed (Close)
#pragma once

#include <cstdint>
#include <string>

#include "messages/errors.hpp"
#include "messages/vm_types.hpp"

namespace uvm {

// What a call that needs a running VM gets in state `s` (not exited):
// "utility VM <id> is <state>: cannot <what>".
error state_error(const std::string& id, lifecycle_state s, const char* what);

class vm_lifecycle {
public:
  explicit vm_lifecycle(std::string id) : id_(std::move(id)) {}

  lifecycle_state state() const { return state_; }
  const std::string& id() const { return id_; }
  uint32_t restarts() const { return restarts_; }
  bool was_started() const { return was_started_; }
  bool has_exited() const {
    return state_ == lifecycle_state::stopped || state_ == lifecycle_state::exited;
  }

  // Start is accepted once, from `created`.
  error begin_start();
  void start_succeeded();
  // A failed start leaves the system created (hcsshim terminates it; the
  // exit that follows is then expected).
  void start_failed();

  // Terminate/Shutdown: accepted while the system lives; on a system that
  // already stopped it is a success that does nothing (already stopped).
  // Returns true when a backend call is needed.
  bool begin_stop();

  // The backend reported the system's exit. `unexpected` is decided by the
  // backend's status (0xC0370106) or by an exit nobody asked for.
  void on_exit(bool unexpected, std::string exit_error);

  // Close: every state may close; closed is final.
  void close() { state_ = lifecycle_state::closed; }

  // A re-created system after an unexpected exit (supervisor restart).
  void restart();

  // ExitError(): `container not exited` while the system runs, nothing after
  // a clean exit, the exit's error after an unexpected one.
  error exit_error() const;

  // The error pending and later calls get once the VM exited unexpectedly:
  // it names the exit.
  error exited_error() const;

  // Guards device and guest calls: only a running VM takes them.
  error check_running(const char* what) const;

private:
  std::string id_;
  lifecycle_state state_ = lifecycle_state::created;
  bool was_started_ = false;
  std::string exit_error_;
  uint32_t restarts_ = 0;
};

} // namespace uvm
