// The VPCI child of a utility VM (uvm-api.md §13): devices assigned to the
// VM under a fresh GUID each, not ref-counted, with the §4 dispatcher. The
// record of assigned devices is the engine's view of them.
#pragma once

#include "actors/device_child.hpp"

namespace uvm {

vpci_child spawn_vpci_controller(caf::local_actor* parent, device_env env);

} // namespace uvm
