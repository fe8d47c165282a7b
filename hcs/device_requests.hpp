// The modify requests of every device operation (uvm-api.md §7-§13,
// hcs-schema.md §5-§7), split the way the modify dispatcher (uvm-api.md §4)
// sends them, as the Go JSON text that goes on the wire: `host` is the
// ModifySettingRequest without its GuestRequest (what HCS receives when the
// engine runs the GCS bridge itself; absent for guest-only requests) and
// `guest` is the GuestRequest (the `Request` of a bridge ModifySettings;
// absent for host-only requests). combined_request() is what HCS receives
// when it owns the guest connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hcs/schema.hpp"

namespace uvm::hcs {

struct device_request {
  std::optional<std::string> host; // always with a ResourcePath
  std::optional<std::string> guest;
  // The host part adds a resource (an Add with a ResourcePath): a failed
  // guest step undoes it with host_undo(*host).
  bool host_adds = false;
};

// host + "GuestRequest"; a guest-only request is {"GuestRequest":...}.
std::string combined_request(const device_request& request);

// The host part of an add with RequestType Remove.
std::string host_undo(const std::string& host_add);

enum class guest_os : uint8_t { lcow, wcow };

constexpr int32_t plan9_port = 564;
constexpr const char* vsmb_share_prefix =
    R"(\\?\VMSMB\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\)";
constexpr const char* pipe_prefix = R"(\\.\pipe\)";

// --- SCSI (§7) ---

struct scsi_disk {
  uint32_t controller = 0;
  uint32_t lun = 0;
  std::string host_path;
  std::string uvm_path; // "" = attach without a guest mount
  std::string type = "VirtualDisk";
  bool read_only = false;
};

// No guest request when uvm_path is empty.
device_request scsi_add(guest_os os, const scsi_disk& disk);
// Always a guest request: the WCOW settings only for a WCOW disk with a
// uvm_path, the LCOW ones otherwise (the seed's quirk for WCOW attach-only
// disks).
device_request scsi_remove(guest_os os, const scsi_disk& disk);

// --- VPMEM (§8) ---

device_request vpmem_add(uint32_t device_number, const std::string& host_path,
                         const std::string& uvm_path);
device_request vpmem_remove(uint32_t device_number, const std::string& uvm_path);

// A layer packed into a device (later hcsshim's vpmem_mapped.go):
// the first layer of a device adds the device itself, later ones a
// mapping at their offset; removing the last layer removes the device.
struct vpmem_packed_layer {
  uint32_t device_number = 0;
  uint64_t offset = 0;
  uint64_t size_bytes = 0; // page-aligned
  std::string host_path;
  std::string uvm_path;
};

device_request vpmem_map(const vpmem_packed_layer& layer, bool new_device);
device_request vpmem_unmap(const vpmem_packed_layer& layer, bool last_on_device);

// --- Plan9 (§10) ---

struct plan9_mount {
  std::string name; // also the access name
  std::string host_path;
  std::string uvm_path;
  int32_t flags = 0;
  bool read_only = false;
  std::vector<std::string> allowed_files;
};

device_request plan9_add(const plan9_mount& mount);
device_request plan9_remove(const std::string& name, const std::string& uvm_path);
// Go's %+v of the RemovePlan9 request, as its error text quotes it.
std::string describe_plan9_remove(const std::string& name, const std::string& uvm_path);

// --- VSMB (§9): host only ---

device_request vsmb_add(const virtual_smb_share& share);
device_request vsmb_update(const virtual_smb_share& share);
device_request vsmb_remove(const std::string& name);
// Go's %+v of the RemoveVSMB request, as its error text quotes it.
std::string describe_vsmb_remove(const std::string& name);

// --- Named pipes (§12): host only ---

device_request pipe_add(const std::string& host_pipe);
device_request pipe_remove(const std::string& host_pipe);

// IsPipe: the path starts with \\.\pipe\ (case-sensitive).
bool is_pipe(const std::string& path);

struct pipe_mapping {
  std::string source;
  std::string destination;
};

// GetContainerPipeMapping: a container in a UVM reaches the host pipe
// through the VSMB IPC$ share.
pipe_mapping container_pipe_mapping(bool in_uvm, const std::string& source,
                                    const std::string& destination);

// --- VPCI and combined layers (§13) ---

// The LCOW-style guest request is sent for WCOW too, as in the seed.
device_request vpci_add(const std::string& device_id, const virtual_pci_device& device);
device_request vpci_remove(const std::string& device_id);

// Guest only. An empty scratch_path means a read-only overlay.
device_request combine_layers_lcow(const std::vector<std::string>& layer_paths,
                                   const std::string& scratch_path, const std::string& rootfs_path);
device_request combine_layers_wcow(const std::vector<layer>& layers,
                                   const std::string& container_root_path);
device_request remove_combined_layers(const std::string& rootfs_path);

// --- Compute topology of a running VM (hcsshim's UpdateMemory and
// UpdateCPULimits): host only, without a RequestType as hcsshim sends them.

struct memory_size {
  uint64_t size_in_mb = 0;
  std::string warning; // when the size was rounded
};

// UpdateMemory's size: `bytes` in whole MB, an odd count rounded up to
// even (as at create).
memory_size normalize_memory(uint64_t bytes);
device_request memory_update(uint64_t size_in_mb);
device_request processor_limits_update(const processor_limits& limits);
// A processor count: Hyper-V refuses it for a running VM; QEMU adds or
// removes processors.
device_request processor_count_update(uint32_t count);

// --- Network (§11) ---

// The HNS objects the WCOW guest requests carry: the endpoint (hns.HNSEndpoint,
// empty members omitted) and the namespace (hcn.HostComputeNamespace).
ojson hns_endpoint_json(const network_endpoint& endpoint);
ojson hns_namespace_json(const std::string& id);

// `namespace_supported` = the guest's NamespaceAddRequestSupported; without
// it no guest request is sent.
device_request network_adapter_add_lcow(const std::string& nic_id, const network_endpoint& endpoint,
                                        bool namespace_supported);
// The guest request names the HNS endpoint id, not the NIC id (seed quirk).
device_request network_adapter_remove_lcow(const std::string& nic_id,
                                           const network_endpoint& endpoint,
                                           bool namespace_supported);

// `rs4` = host build < 17763: AdapterInstanceId instead of AdapterId.
// Guest only: the HNS endpoint JSON announced before the adapter is added.
device_request network_adapter_preadd_wcow(const std::string& nic_id, const ojson& hns_endpoint,
                                           bool rs4);
device_request network_adapter_add_wcow(const std::string& nic_id, const network_endpoint& endpoint,
                                        bool rs4);
// The guest request is a ModifySettingRequest without ResourceType (seed
// quirk).
device_request network_adapter_remove_wcow(const std::string& nic_id,
                                           const network_endpoint& endpoint, bool rs4);
// Guest only; `type` Add or Remove, with the HNS namespace JSON.
device_request network_namespace_wcow(const std::string& type, const ojson& hns_namespace);

} // namespace uvm::hcs
