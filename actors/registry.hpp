// The registry: id -> utility VM. The host agent's facade: it creates VMs
// (spawning their actors), finds and lists them, and forgets closed ones.
#pragma once

#include "actors/vm_actor.hpp"

namespace uvm {

// `env.registry` is filled in by the registry itself.
registry_internal spawn_registry(caf::actor_system& sys, vm_env env);

} // namespace uvm
