// Modify requests on a running system's compute topology, as hcsshim's
// UpdateMemory and UpdateCPULimits send them, validated against Hyper-V's
// limits:
//
//   Memory/SizeInMB     Settings: the size in MB. 32 MB to 12 TB (Hyper-V's
//                       range for a VM), a multiple of 2 MB (hcsshim rounds
//                       an odd size up before it asks).
//   Processor/Limits    Settings: ProcessorLimits {Limit, Weight,
//                       Reservation, MaximumFrequencyMHz}; Limit and
//                       Reservation 0-100000, Weight 0-10000. Members left
//                       out (or 0) keep their value, as with omitempty.
//   Processor           Settings: {Count}. Hyper-V cannot add or remove
//                       processors of a running VM: 0x80070032.
//
// RequestType may be left out (hcsshim does) or be "Update". Errors:
// 0xC037010D for settings of the wrong type; 0x80070057 for a size or
// limit out of range, another request type, or an unknown path.
#pragma once

#include <string_view>

#include "gojson/json_view.hpp"
#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs::sim {

inline constexpr std::string_view topology_prefix = "VirtualMachine/ComputeTopology/";

// `rest` is the resource path after topology_prefix; `body` the request.
// Throws `rejection`; a rejected request changes nothing.
void modify_topology(sim_system& system, std::string_view rest, const gojson::json_object& body);

} // namespace uvm::hcs::sim
