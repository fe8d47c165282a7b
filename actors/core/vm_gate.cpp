#include "actors/core/vm_gate.hpp"

namespace uvm {

error state_error(const std::string& id, lifecycle_state s, const char* what) {
  return error{errc::invalid_state,
               std::string{"utility VM "} + id + " is " + to_string(s) + ": cannot " + what};
}

error vm_gate::exited_error() const {
  return error{errc::vm_exited, "utility VM " + id_ + " exited unexpectedly: " + exit_error_};
}

error vm_gate::check_running(const char* what) const {
  auto s = state();
  if (s == lifecycle_state::running) {
    return {};
  }
  if (s == lifecycle_state::exited) {
    return exited_error();
  }
  return state_error(id_, s, what);
}

} // namespace uvm
