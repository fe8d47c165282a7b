// Answers HcsGetComputeSystemProperties (hcs-schema.md §3) from the
// simulator's view of a system. The v1 query `{}` gets the basic
// ContainerProperties; a query naming Statistics and/or Memory gets a v2
// Properties object with figures derived from the topology and the uptime
// (plausible, deterministic for a given `now`).
#pragma once

#include <chrono>
#include <string>

#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs::sim {

// Throws `rejection`: 0xC037010D for a query that is not a JSON object,
// 0x80070057 for an unknown property type.
std::string properties_response(const std::string& id, const sim_system& system,
                                const std::string& query,
                                std::chrono::system_clock::time_point now);

} // namespace uvm::hcs::sim
