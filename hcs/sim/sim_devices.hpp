// Applies one ModifySettingRequest (hcs-schema.md §5) to a running system's
// host devices (its compute topology: sim_topology.hpp), validating it the way HCS would: the
// resource path must name a device the system can have, the request type must suit it, the slot or
// share must be free for Add and present for Remove/Update. A rejected
// request leaves the devices unchanged.
//
// Errors: 0xC037010D for text that is not a JSON object or members of the
// wrong type; 0x80070057 for an unknown path or request type, a controller or
// slot outside the document's limits, missing settings, or an Add on
// something already there; 0x80070490 for a Remove/Update of something that
// is not there.
#pragma once

#include <string>

#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs::sim {

// Throws `rejection`. A request with only a GuestRequest (no ResourcePath)
// is for the guest: HCS forwards it, so the host devices do not change.
void apply_modify(sim_system& system, const std::string& request);

} // namespace uvm::hcs::sim
