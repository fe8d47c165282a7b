// The device children of a utility VM whose semantics are still to come
// (VPMEM, the VSMB and Plan9 share tables). Each holds its initial table,
// is reached only through the VM actor, and ends with the VM. SCSI and the
// GCS bridge have actors of their own (scsi_controller, gcs_bridge).
#pragma once

#include "hcs/create_plan.hpp"
#include "messages/caf_types.hpp"

namespace uvm {

enum class child_kind { vpmem, shares };

device_child_actor spawn_device_child(caf::local_actor* parent, child_kind kind,
                                      const hcs::create_plan& plan);

} // namespace uvm
