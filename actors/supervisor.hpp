// The supervisor: watches every VM, records each exit (the most recent
// `history` of them), and applies the VM's restart policy after an
// unexpected one.
#pragma once

#include "actors/internal_calls.hpp"

namespace uvm {

supervisor_internal spawn_supervisor(caf::actor_system& sys, caf::group bus, size_t history);

} // namespace uvm
