// The network child of a utility VM (uvm-api.md §11): network namespaces
// and the NICs that bring their endpoints into the VM, over the pure
// netns_table, with the §4 dispatcher for each NIC. Its calls run one at a
// time, as under the seed's lock; a NIC whose removal fails stays recorded
// so that a retry removes it.
#pragma once

#include <cstdint>

#include "actors/device_child.hpp"

namespace uvm {

struct network_context {
  device_env env;
  uint32_t host_build = 0; // before 17763 (RS5) WCOW requests use AdapterInstanceId
  // The guest's NamespaceAddRequestSupported capability.
  bool namespace_supported = true;
};

network_child spawn_network_controller(caf::local_actor* parent, network_context ctx);

} // namespace uvm
