// Device requests and handles that cross the utility VM's boundary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/hcs_settings.hpp"
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

// AddVSMB (uvm-api.md §9.1). The guest request of the seed is never sent,
// so it is not carried.
struct vsmb_add_request {
  std::string host_path;
  hcs::virtual_smb_share_options options;
  std::string activity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vsmb_add_request& x) {
  return f(x.host_path, x.options, x.activity_id);
}

// VSMBShare: `host_path` is the path as passed to AddVSMB (so that a
// release finds the file or directory table it came from).
struct vsmb_share_handle {
  std::string host_path;
  std::string name;
  std::string guest_path;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vsmb_share_handle& x) {
  return f(x.host_path, x.name, x.guest_path);
}

// AddPlan9 (uvm-api.md §10.1).
struct plan9_add_request {
  std::string host_path;
  std::string uvm_path;
  bool read_only = false;
  bool restrict_access = false;
  std::vector<std::string> allowed_names;
  std::string activity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan9_add_request& x) {
  return f(x.host_path, x.uvm_path, x.read_only, x.restrict_access, x.allowed_names, x.activity_id);
}

// Plan9Share: released with RemovePlan9 by name.
struct plan9_share_handle {
  std::string name;
  std::string host_path;
  std::string uvm_path;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan9_share_handle& x) {
  return f(x.name, x.host_path, x.uvm_path);
}

// CombineLayersLCOW (layer_paths, scratch_path) or CombineLayersWCOW
// (layers) at `root_path` (uvm-api.md §13).
struct combine_layers_request {
  bool lcow = true;
  std::vector<std::string> layer_paths;
  std::string scratch_path;
  std::vector<hcs::layer> layers;
  std::string root_path;
  std::string activity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, combine_layers_request& x) {
  return f(x.lcow, x.layer_paths, x.scratch_path, x.layers, x.root_path, x.activity_id);
}

} // namespace uvm
