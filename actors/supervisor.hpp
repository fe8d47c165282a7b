// The supervisor: watches every VM, records each exit, and applies the
// VM's restart policy after an unexpected one.
#pragma once

#include "actors/internal_calls.hpp"

namespace uvm {

supervisor_internal spawn_supervisor(caf::actor_system& sys, caf::group bus);

} // namespace uvm
