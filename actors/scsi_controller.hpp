// The SCSI child of a utility VM (uvm-api.md §7): the slot table
// (actors/core/scsi_slot_table) behind a mailbox, with the §4 dispatcher
// around it: host step (HCS modify) first, then the guest step; a failed
// guest step undoes the host step. Removal runs the other way. Attaches of
// different disks overlap; a second caller for a disk being attached waits
// for that attach and then shares it.
#pragma once

#include <optional>

#include "actors/core/scsi_slot_table.hpp"
#include "actors/device_child.hpp"

namespace uvm {

struct scsi_context {
  device_env env;
  uint32_t controllers = 1;
  std::optional<scsi_attachment> scratch; // WCOW: the scratch disk at 0:0
};

scsi_child spawn_scsi_controller(caf::local_actor* parent, scsi_context ctx);

} // namespace uvm
