// The hcsschema v2 types the engine sends to HCS (hcs-schema.md §4.1, §5,
// §6, §7): ComputeSystem documents, ModifySettingRequests and the guest
// requests they carry. Every member is "omit if empty" as in the Go types:
// to_json() writes members in the spec's order and leaves out false, 0, "",
// empty arrays and maps and absent sub-objects; a present sub-object with
// nothing in it is written as {}. Serialize the result with go_dump(), or
// write the text at once with go_text(), which builds no JSON values.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace uvm::hcs {

using ojson = nlohmann::ordered_json;

// ModifySettingRequest.RequestType and GuestRequest.RequestType values.
namespace request_type {
constexpr const char* add = "Add";
constexpr const char* remove = "Remove";
constexpr const char* update = "Update";
constexpr const char* pre_add = "PreAdd";
} // namespace request_type

// GuestRequest.ResourceType values (hcs-schema.md §7.1).
namespace resource_type {
constexpr const char* mapped_directory = "MappedDirectory";
constexpr const char* mapped_virtual_disk = "MappedVirtualDisk";
constexpr const char* network = "Network";
constexpr const char* network_namespace = "NetworkNamespace";
constexpr const char* combined_layers = "CombinedLayers";
constexpr const char* vpmem_device = "VPMemDevice";
constexpr const char* vpci_device = "VPCIDevice";
} // namespace resource_type

// Resource paths (hcs-schema.md §5).
constexpr const char* vsmb_shares_path = "VirtualMachine/Devices/VirtualSmb/Shares";
constexpr const char* plan9_shares_path = "VirtualMachine/Devices/Plan9/Shares";
std::string scsi_attachment_path(uint32_t controller, uint32_t lun);
std::string vpmem_device_path(uint32_t device_number);
std::string mapped_pipe_path(const std::string& host_pipe); // inserted verbatim
std::string network_adapter_path(const std::string& nic_id);
std::string virtual_pci_path(const std::string& device_id);

// A member already written as Go's JSON text, like Go's json.RawMessage:
// requests carry their settings this way. Empty means absent. go_text()
// writes it as it is; to_json() parses it.
struct raw_json {
  std::string text;
};

// go_dump(x.to_json()) of any type here, written straight from x's members.
template <class T>
std::string go_text(const T& x);

// HvSocket SDDL put in every UVM document.
constexpr const char* default_bind_security_descriptor = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";

// --- ComputeSystem document (§4.1) ---

struct version {
  int32_t major = 0;
  int32_t minor = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct uefi_boot_entry {
  std::string device_type;
  std::string device_path;
  int32_t disk_number = 0;
  std::string optional_data;
  std::string vmb_fs_root_path;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct uefi {
  bool enable_debugger = false;
  std::string secure_boot_template_id;
  std::optional<uefi_boot_entry> boot_this;
  std::string console;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct linux_kernel_direct {
  std::string kernel_file_path;
  std::string init_rd_path;
  std::string kernel_cmd_line;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct chipset {
  std::optional<hcs::uefi> uefi;
  bool is_num_lock_disabled = false;
  std::string base_board_serial_number;
  std::string chassis_serial_number;
  std::string chassis_asset_tag;
  bool use_utc = false;
  std::optional<hcs::linux_kernel_direct> linux_kernel_direct;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct memory2 {
  int32_t size_in_mb = 0;
  bool allow_overcommit = false;
  bool enable_hot_hint = false;
  bool enable_cold_hint = false;
  bool enable_epf = false;
  bool enable_deferred_commit = false;
  bool enable_cold_discard_hint = false;
  uint64_t low_mmio_gap_in_mb = 0;
  uint64_t high_mmio_base_in_mb = 0;
  uint64_t high_mmio_gap_in_mb = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct processor2 {
  int32_t count = 0;
  int32_t limit = 0;
  int32_t weight = 0;
  bool expose_virtualization_extensions = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct topology {
  std::optional<memory2> memory;
  std::optional<processor2> processor;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct com_port {
  std::string named_pipe;
  bool optimize_for_debugger = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct attachment {
  std::string type; // "VirtualDisk" or "PassThru"
  std::string path;
  bool ignore_flushes = false;
  std::string caching_mode;
  bool no_write_hardening = false;
  bool disable_expansion_optimization = false;
  bool ignore_relative_locator = false;
  bool capture_io_attribution_context = false;
  bool read_only = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct scsi {
  std::map<std::string, attachment> attachments; // LUN as decimal string
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_pmem_device {
  std::string host_path;
  bool read_only = false;
  std::string image_format; // "Vhd1" or "Vhdx"
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_pmem_controller {
  std::map<std::string, virtual_pmem_device> devices; // device number as decimal string
  uint32_t maximum_count = 0;
  uint64_t maximum_size_bytes = 0;
  std::string backing;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct network_adapter {
  std::string endpoint_id;
  std::string mac_address;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct hv_socket_service_config {
  std::string bind_security_descriptor;
  std::string connect_security_descriptor;
  bool allow_wildcard_binds = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct hv_socket_system_config {
  std::string default_bind_security_descriptor;
  std::string default_connect_security_descriptor;
  std::map<std::string, hv_socket_service_config> service_table; // service GUID
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct hv_socket2 {
  std::optional<hv_socket_system_config> hv_socket_config;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_smb_share_options {
  bool read_only = false;
  bool share_read = false;
  bool cache_io = false;
  bool no_oplocks = false;
  bool take_backup_privilege = false;
  bool use_share_root_identity = false;
  bool no_directmap = false;
  bool no_locks = false;
  bool no_dirnotify = false;
  bool vm_shared_memory = false;
  bool restrict_file_access = false;
  bool force_level_ii_oplocks = false;
  bool reparse_base_layer = false;
  bool pseudo_oplocks = false;
  bool non_cache_io = false;
  bool pseudo_dirnotify = false;
  bool single_file_mapping = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_smb_share {
  std::string name;
  std::string path;
  std::vector<std::string> allowed_files;
  std::optional<virtual_smb_share_options> options;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_smb {
  std::vector<virtual_smb_share> shares;
  int64_t direct_file_mapping_in_mb = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct plan9_share {
  // Flags bits (hcs-schema.md §6).
  static constexpr int32_t flag_read_only = 0x1;
  static constexpr int32_t flag_linux_metadata = 0x4;
  static constexpr int32_t flag_case_sensitive = 0x8;
  static constexpr int32_t flag_restrict_file_access = 0x80;

  std::string name;
  std::string access_name;
  std::string path;
  int32_t port = 0;
  int32_t flags = 0;
  bool read_only = false;
  bool use_share_root_identity = false;
  std::vector<std::string> allowed_files;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct plan9 {
  std::vector<plan9_share> shares;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_pci_function {
  std::string device_instance_path;
  uint16_t virtual_function = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_pci_device {
  std::vector<virtual_pci_function> functions;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

// Keyboard, Mouse, Battery have no members; the UVM code never sets the
// members of EnhancedModeVideo and VideoMonitor, so all of them are {}.
struct empty_device {
  ojson to_json() const { return ojson::object(); }
  template <class M>
  void describe(M&) const {}
};

struct devices {
  std::map<std::string, com_port> com_ports; // "0" is COM1
  std::map<std::string, hcs::scsi> scsi;     // controller number
  std::optional<virtual_pmem_controller> virtual_pmem;
  std::map<std::string, network_adapter> network_adapters;
  std::optional<empty_device> video_monitor;
  std::optional<empty_device> keyboard;
  std::optional<empty_device> mouse;
  std::optional<hv_socket2> hv_socket;
  std::optional<empty_device> enhanced_mode_video;
  std::optional<hcs::virtual_smb> virtual_smb;
  std::optional<hcs::plan9> plan9;
  std::optional<empty_device> battery;
  std::map<std::string, virtual_pci_device> virtual_pci; // device GUID
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct storage_qos {
  int32_t iops_maximum = 0;
  int32_t bandwidth_maximum = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct guest_connection {
  bool use_vsock = false;
  bool use_connected_suspend = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct virtual_machine {
  bool stop_on_reset = false;
  std::optional<hcs::chipset> chipset;
  std::optional<topology> compute_topology;
  std::optional<hcs::devices> devices;
  std::optional<hcs::storage_qos> storage_qos;
  std::optional<hcs::guest_connection> guest_connection;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct compute_system {
  std::string owner;
  std::optional<version> schema_version;
  std::string hosting_system_id;
  ojson hosted_system; // any; null is omitted
  std::optional<hcs::virtual_machine> virtual_machine;
  bool should_terminate_on_last_handle_closed = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

// --- Settings of host resources (§6) ---

struct layer {
  std::string id;
  std::string path;
  std::string path_type;
  std::string cache;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

// --- Requests (§5, §7.1) ---

struct modify_setting_request {
  std::string resource_path;
  std::string request_type;
  raw_json settings;      // any
  raw_json guest_request; // a guest_request
  ojson to_json() const;
  template <class M>
  void describe(M& m) const;
};

struct guest_request {
  std::string request_type;
  std::string resource_type;
  raw_json settings; // any
  ojson to_json() const;
  template <class M>
  void describe(M& m) const;
};

// --- Guest request settings (§7.2) ---

struct lcow_mapped_virtual_disk {
  std::string mount_path;
  uint8_t lun = 0;
  uint8_t controller = 0;
  bool read_only = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct wcow_mapped_virtual_disk {
  std::string container_path;
  int32_t lun = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct lcow_mapped_directory {
  std::string mount_path;
  int32_t port = 0;
  std::string share_name;
  bool read_only = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct lcow_mapped_vpmem_device {
  uint32_t device_number = 0;
  std::string mount_path;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct lcow_mapped_vpci_device {
  std::string vmbus_guid;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct lcow_network_adapter {
  std::string namespace_id;
  std::string id;
  std::string mac_address;
  std::string ip_address;
  uint8_t prefix_length = 0;
  std::string gateway_address;
  std::string dns_suffix;
  std::string dns_server_list;
  bool enable_low_metric = false;
  uint16_t encap_overhead = 0;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

// WCOW NIC guest settings: NetworkModifyRequest on host builds >= 17763,
// RS4NetworkModifyRequest (AdapterInstanceId) before.
struct network_modify_request {
  std::string adapter_id;
  std::string request_type;
  ojson settings; // any; null is omitted
  bool rs4 = false;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

struct combined_layers {
  std::string container_root_path;
  std::vector<layer> layers;
  std::string scratch_path;
  ojson to_json() const;
  template <class M>
  void describe(M& m) const; // puts each member into m
};

} // namespace uvm::hcs
