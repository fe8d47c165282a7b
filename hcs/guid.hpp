// Random GUIDs for compute-system ids, NIC ids and VPCI device ids.
#pragma once

#include <string>

namespace uvm::hcs {

// A random (version 4) GUID, lower-case 8-4-4-4-12. Safe to call from any
// thread.
std::string new_guid();

} // namespace uvm::hcs
