// The shares child of a utility VM: VSMB shares (WCOW, uvm-api.md §9),
// Plan9 shares (LCOW, §10) and mapped named pipes (§12), each table behind
// this one mailbox with the §4 dispatcher around it. VSMB and Plan9 are
// ref-counted; pipes are recorded (so the engine's view can be compared with
// the host's) but, as in the seed, not ref-counted.
#pragma once

#include <cstdint>

#include "actors/device_child.hpp"

namespace uvm {

struct share_context {
  device_env env;
  uint32_t host_build = 0; // single-file Plan9 shares need 18362
};

share_child spawn_share_controller(caf::local_actor* parent, share_context ctx);

} // namespace uvm
