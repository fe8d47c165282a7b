// The children of a utility VM. Each holds one table of the VM's devices
// (or the guest connection) and is reached only through the VM actor, which
// serializes allocation and ref-counting by message passing. The device
// semantics (add/remove, ref-counts) are filled in by the device and bridge
// work; here each child owns its initial table and ends with the VM.
#pragma once

#include "hcs/create_plan.hpp"
#include "messages/caf_types.hpp"

namespace uvm {

enum class child_kind { scsi, vpmem, shares, gcs_bridge };
const char* to_string(child_kind kind);

device_child_actor spawn_device_child(caf::local_actor* parent, child_kind kind,
                                      const hcs::create_plan& plan);

} // namespace uvm
