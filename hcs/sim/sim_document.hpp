// Reads a v2 ComputeSystem document (hcs-schema.md §4) into the simulator's
// view of a new system: owner, boot OS, topology, and the devices the
// document declares (SCSI controllers and their initial attachments, e.g. the
// WCOW scratch at 0:0; VPMEM limits and initial devices; VSMB and Plan9
// shares; network adapters; VPCI devices).
#pragma once

#include <string>

#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs::sim {

// Throws `rejection`: 0xC037010D for text that is not a JSON object or has
// members of the wrong type, 0x80070057 for content HCS would refuse.
sim_system parse_document(const std::string& text);

} // namespace uvm::hcs::sim
