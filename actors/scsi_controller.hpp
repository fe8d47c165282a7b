// The SCSI child of a utility VM: the slot table (actors/core/
// scsi_slot_table) behind a mailbox, and the two-phase attach around it:
// host step (HCS modify) first, then the guest step (bridge ModifySettings);
// a failed guest step undoes the host step. Removal runs the other way.
// Attaches of different disks overlap; a second caller for a disk being
// attached waits for that attach and then shares it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "actors/core/scsi_slot_table.hpp"
#include "actors/core/stub_guest.hpp"
#include "hcs/backend.hpp"
#include "messages/caf/interfaces.hpp"

namespace uvm {

struct scsi_context {
  std::string vm_id;
  bool lcow = true;
  // True when the engine runs the GCS bridge itself (LCOW default): guest
  // requests go over the bridge; otherwise HCS forwards them.
  bool external_guest = true;
  uint32_t controllers = 1;
  std::optional<scsi_attachment> scratch; // WCOW: the scratch disk at 0:0
  std::shared_ptr<hcs::backend> backend;
  gcs_bridge_actor bridge;
  // The guest "stub", asked directly instead of through `bridge` (null for
  // a real guest).
  std::shared_ptr<stub_guest> stub;
  caf::group bus;
};

// What each SCSI call says it cannot do when the VM is not running; the VM
// and the child give the same error.
namespace scsi_call {
constexpr const char* add = "add a SCSI disk";
constexpr const char* remove = "remove a SCSI disk";
constexpr const char* path = "look up a SCSI disk";
} // namespace scsi_call

// The child starts in the `created` state; the VM reports every change.
scsi_actor spawn_scsi_controller(caf::local_actor* parent, scsi_context ctx);

} // namespace uvm
