// The utility VM's lifecycle as a plain state machine: which calls a state
// accepts, and what an exit means (hcs-schema.md §2.5, uvm-api.md §5.7).
//
//   created -> starting -> running -> stopping -> stopped
//      \          \           \          \-> (exit while stopping: expected)
//       \----------\-----------\--> exited   (the system stopped on its own)
//   any state -> closed (Close)
//
// The state itself lives in the current system's gate (vm_gate), which the
// VM's children read: there is one truth about it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/core/vm_gate.hpp"
#include "messages/errors.hpp"
#include "messages/vm_types.hpp"
#include "metrics/engine_metrics.hpp"

namespace uvm {

class vm_lifecycle {
public:
  explicit vm_lifecycle(std::string id) : gate_(std::make_shared<vm_gate>(std::move(id))) {}

  // Counts this VM in `m`'s VMs-by-state gauges from now until it is
  // destroyed, and its unexpected exits and restarts. `m` may be null.
  void track(metrics::engine_metrics* m, metrics::vm_backend b) {
    metrics_ = m;
    slot_ = metrics::vm_state_slot{m, b, state()};
  }

  lifecycle_state state() const { return gate_->state(); }
  const std::string& id() const { return gate_->id(); }
  // The current system's gate, for the children spawned for it.
  std::shared_ptr<const vm_gate> gate() const { return gate_; }
  uint32_t restarts() const { return restarts_; }
  bool was_started() const { return was_started_; }
  bool has_exited() const {
    return state() == lifecycle_state::stopped || state() == lifecycle_state::exited;
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
  void close() { set(lifecycle_state::closed); }

  // A re-created system after an unexpected exit (supervisor restart): a
  // new gate in `created`.
  void restart();

  // ExitError(): `container not exited` while the system runs, nothing after
  // a clean exit, the exit's error after an unexpected one.
  error exit_error() const;

  // The error pending and later calls get once the VM exited unexpectedly:
  // it names the exit.
  error exited_error() const { return gate_->exited_error(); }

  // Guards device and guest calls: only a running VM takes them.
  error check_running(const char* what) const { return gate_->check_running(what); }
  // Callers' device and guest calls wait while `on` (vm_gate::holds_calls);
  // returns whether they were held before.
  bool hold_calls(bool on) { return gate_->hold_calls(on); }

private:
  void set(lifecycle_state s) {
    gate_->set(s);
    slot_.move_to(s);
  }

  std::shared_ptr<vm_gate> gate_;
  metrics::engine_metrics* metrics_ = nullptr;
  metrics::vm_state_slot slot_;
  bool was_started_ = false;
  uint32_t restarts_ = 0;
};

} // namespace uvm
