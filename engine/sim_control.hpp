// The simulated HCS's controls as one message (uvmctl's sim_* ops), so
// that a scenario drives a node's simulator as it drives its own.
#pragma once

#include <string>

#include "hcs/sim/sim_backend.hpp"
#include "messages/caf/remote_calls.hpp"

namespace uvm {

// Applies `c` to `sim`: the oracle's JSON for kind::oracle, else "".
result<std::string> apply_sim_control(hcs::sim_backend& sim, const sim_control& c);

} // namespace uvm
