// The GCS bridge child of a utility VM: the guest half of every modify
// (a ModifySettings RPC to the null container). Until the bridge protocol
// lands, it is served by the in-process guest stub (bridge/guest_stub);
// the device actors see only this typed interface.
#pragma once

#include <memory>

#include "bridge/frame_log.hpp"
#include "messages/caf_types.hpp"

namespace uvm {

// `log` (may be null) hears every ModifySettings and its response.
gcs_bridge_actor spawn_gcs_bridge(caf::local_actor* parent, std::string vm_id, bool external,
                                  std::shared_ptr<bridge::frame_log> log);

} // namespace uvm
