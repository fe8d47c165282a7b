// Stats(): the v2 properties {"PropertyTypes":["Statistics","Memory"]}
// turned into VirtualMachineStatistics (uvm-api.md §15).
#pragma once

#include <string>

#include "messages/vm_types.hpp"

namespace uvm {

// Missing members read as zero (the original dereferenced them blindly).
// The working set comes from Statistics.Memory: there is no vmmem process
// to read it from outside Windows.
vm_stats parse_vm_stats(const std::string& properties_json);

} // namespace uvm
