// The registry: id -> utility VM. The host agent's facade: it creates VMs
// (spawning their actors), finds and lists them, and forgets closed ones.
#pragma once

#include "actors/utility_vm.hpp"

namespace uvm {

// `env.registry` is filled in by the registry itself.
registry_actor spawn_registry(caf::actor_system& sys, vm_env env);

} // namespace uvm
