// What releases again a call that succeeded after its caller's deadline
// had passed: the caller holds no handle, so the engine gives back what
// the call took (a disk's reference, a share, a device, a process) the
// way the caller would have.
#pragma once

#include <vector>

#include <caf/actor.hpp>
#include <caf/message.hpp>

namespace uvm {

struct late_release {
  // The calls that give back what `call` took, in order; empty when it
  // took nothing (a query) or when nothing undoes it.
  std::vector<caf::message> undo;
  // The call took something that stays: a started VM, a created
  // container (its owner decides), a process in the utility VM itself;
  // counted as kept.
  bool kept = false;
  // Where the undo calls go when not to the call's target (a VM created
  // late is closed through its own actor, not the registry's).
  caf::actor target{};
};

// How to release a late success of `call` that answered `reply`. A late
// process also has its stdio closed here.
late_release late_undo(const caf::message& call, const caf::message& reply);

} // namespace uvm
