// Device requests and handles that cross the utility VM's boundary.
#pragma once

#include <cstdint>
#include <string>

#include "messages/options.hpp"

namespace uvm {

// AddSCSI / AddSCSIPhysicalDisk (uvm-api.md §7.2).
struct scsi_add_request {
  std::string host_path;
  std::string uvm_path; // optional: no guest mount when empty
  bool read_only = false;
  vm_access_type vm_access = vm_access_type::noop;
  bool physical = false; // AddSCSIPhysicalDisk: "PassThru" instead of "VirtualDisk"
  std::string activity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scsi_add_request& x) {
  return f(x.host_path, x.uvm_path, x.read_only, x.vm_access, x.physical, x.activity_id);
}

// SCSIMount: where a disk sits and where the guest mounted it.
struct scsi_mount {
  std::string host_path;
  std::string uvm_path;
  uint32_t controller = 0;
  int32_t lun = 0;
  bool read_only = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scsi_mount& x) {
  return f(x.host_path, x.uvm_path, x.controller, x.lun, x.read_only);
}

} // namespace uvm
