// The GCS bridge child of a utility VM: the guest half of every modify
// (a ModifySettings RPC to the null container). Until the bridge protocol
// lands, it is served by the in-process guest stub (bridge/guest_stub);
// the device actors see only this typed interface.
#pragma once

#include "messages/caf_types.hpp"

namespace uvm {

gcs_bridge_actor spawn_gcs_bridge(caf::local_actor* parent, std::string vm_id, bool external);

} // namespace uvm
