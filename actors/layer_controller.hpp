// The combined-layers child of a utility VM (uvm-api.md §13): overlay roots
// the guest builds from layers it already has (guest-only requests), and
// the record of which roots exist, for the engine's view.
#pragma once

#include "actors/device_child.hpp"

namespace uvm {

layer_child spawn_layer_controller(caf::local_actor* parent, device_env env);

} // namespace uvm
