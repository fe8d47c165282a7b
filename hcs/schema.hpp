// The hcsschema v2 types the engine sends to HCS (hcs-schema.md §4.1, §5,
// §6, §7): ComputeSystem documents, ModifySettingRequests and the guest
// requests they carry. Every member is "omit if empty" as in the Go types:
// to_json() writes members in the spec's order and leaves out false, 0, "",
// empty arrays and maps and absent sub-objects; a present sub-object with
// nothing in it is written as {}. Serialize the result with gojson::go_dump(),
// or write the text at once with go_text(), which builds no JSON values.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/hcs_settings.hpp"

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
// The same path written into `buffer` (nothing allocated); the view
// refers to it.
using scsi_path_buffer = std::array<char, 64>;
std::string_view scsi_attachment_path(uint32_t controller, uint32_t lun, scsi_path_buffer& buffer);
std::string vpmem_device_path(uint32_t device_number);
std::string vpmem_mapping_path(uint32_t device_number, uint64_t offset);
std::string mapped_pipe_path(const std::string& host_pipe); // inserted verbatim
std::string network_adapter_path(const std::string& nic_id);
std::string virtual_pci_path(const std::string& device_id);

// A member already written as Go's JSON text, like Go's json.RawMessage:
// requests carry their settings this way. Empty means absent. go_text()
// writes it as it is; to_json() parses it.
struct raw_json {
  std::string text;
};

// gojson::go_dump(x.to_json()) of any type here, written straight from x's members.
template <class T>
std::string go_text(const T& x);

// HvSocket SDDL put in every UVM document.
constexpr const char* default_bind_security_descriptor = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";

// --- ComputeSystem document (§4.1) ---

struct version {
  int32_t major = 0;
  int32_t minor = 0;
};

struct uefi_boot_entry {
  std::string device_type;
  std::string device_path;
  int32_t disk_number = 0;
  std::string optional_data;
  std::string vmb_fs_root_path;
};

struct uefi {
  bool enable_debugger = false;
  std::string secure_boot_template_id;
  std::optional<uefi_boot_entry> boot_this;
  std::string console;
};

struct linux_kernel_direct {
  std::string kernel_file_path;
  std::string init_rd_path;
  std::string kernel_cmd_line;
};

struct chipset {
  std::optional<hcs::uefi> uefi;
  bool is_num_lock_disabled = false;
  std::string base_board_serial_number;
  std::string chassis_serial_number;
  std::string chassis_asset_tag;
  bool use_utc = false;
  std::optional<hcs::linux_kernel_direct> linux_kernel_direct;
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
};

struct processor2 {
  int32_t count = 0;
  int32_t limit = 0;
  int32_t weight = 0;
  bool expose_virtualization_extensions = false;
};

// ProcessorLimits: how the host schedules a running VM's processors
// (UpdateCPULimits); 0 leaves a member as it is.
struct processor_limits {
  uint64_t limit = 0;
  uint64_t weight = 0;
  uint64_t reservation = 0;
  uint32_t maximum_frequency_mhz = 0;
};

struct topology {
  std::optional<memory2> memory;
  std::optional<processor2> processor;
};

struct com_port {
  std::string named_pipe;
  bool optimize_for_debugger = false;
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
};

struct scsi {
  std::map<std::string, attachment> attachments; // LUN as decimal string
};

struct virtual_pmem_device {
  std::string host_path;
  bool read_only = false;
  std::string image_format; // "Vhd1" or "Vhdx"
};

// A layer packed into a VPMEM device at an offset (later hcsshim), added at
// VirtualMachine/Devices/VirtualPMem/Devices/<n>/Mappings/<offset>.
struct virtual_pmem_mapping {
  std::string host_path;
  std::string image_format;
};

struct virtual_pmem_controller {
  std::map<std::string, virtual_pmem_device> devices; // device number as decimal string
  uint32_t maximum_count = 0;
  uint64_t maximum_size_bytes = 0;
  std::string backing;
};

struct network_adapter {
  std::string endpoint_id;
  std::string mac_address;
};

struct hv_socket_service_config {
  std::string bind_security_descriptor;
  std::string connect_security_descriptor;
  bool allow_wildcard_binds = false;
};

struct hv_socket_system_config {
  std::string default_bind_security_descriptor;
  std::string default_connect_security_descriptor;
  std::map<std::string, hv_socket_service_config> service_table; // service GUID
};

struct hv_socket2 {
  std::optional<hv_socket_system_config> hv_socket_config;
};

struct virtual_smb_share {
  std::string name;
  std::string path;
  std::vector<std::string> allowed_files;
  std::optional<virtual_smb_share_options> options;
};

struct virtual_smb {
  std::vector<virtual_smb_share> shares;
  int64_t direct_file_mapping_in_mb = 0;
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
};

struct plan9 {
  std::vector<plan9_share> shares;
};

// Keyboard, Mouse, Battery have no members; the UVM code never sets the
// members of EnhancedModeVideo and VideoMonitor, so all of them are {}.
struct empty_device {};

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
};

struct storage_qos {
  int32_t iops_maximum = 0;
  int32_t bandwidth_maximum = 0;
};

struct guest_connection {
  bool use_vsock = false;
  bool use_connected_suspend = false;
};

struct virtual_machine {
  bool stop_on_reset = false;
  std::optional<hcs::chipset> chipset;
  std::optional<topology> compute_topology;
  std::optional<hcs::devices> devices;
  std::optional<hcs::storage_qos> storage_qos;
  std::optional<hcs::guest_connection> guest_connection;
};

struct compute_system {
  std::string owner;
  std::optional<version> schema_version;
  std::string hosting_system_id;
  ojson hosted_system; // any; null is omitted
  std::optional<hcs::virtual_machine> virtual_machine;
  bool should_terminate_on_last_handle_closed = false;
};

// --- Requests (§5, §7.1) ---

struct modify_setting_request {
  std::string resource_path;
  std::string request_type;
  raw_json settings;      // any
  raw_json guest_request; // a guest_request
};

struct guest_request {
  std::string request_type;
  std::string resource_type;
  raw_json settings; // any
};

// The same two requests with Settings written in place: go_text() gives
// the text of the request above with raw_json{go_text(*settings.value)}
// (a present object, even with nothing in it; absent for nullptr), making
// one string instead of three. For the requests of every hotplug. The
// views refer to the caller's strings.
template <class T>
struct nested_json {
  const T* value = nullptr;
};

struct raw_json_view {
  std::string_view text; // empty = absent
};

template <class S>
struct modify_setting_request_of {
  std::string_view resource_path;
  std::string_view request_type;
  nested_json<S> settings;
  raw_json_view guest_request; // a guest_request
};

template <class S>
struct guest_request_of {
  std::string_view request_type;
  std::string_view resource_type;
  nested_json<S> settings;
};

// --- Guest request settings (§7.2) ---

struct lcow_mapped_virtual_disk {
  std::string mount_path;
  uint8_t lun = 0;
  uint8_t controller = 0;
  bool read_only = false;
};

struct wcow_mapped_virtual_disk {
  std::string container_path;
  int32_t lun = 0;
};

struct lcow_mapped_directory {
  std::string mount_path;
  int32_t port = 0;
  std::string share_name;
  bool read_only = false;
};

// Go: guestresource.LCOWMappedLayer, where a packed layer sits.
struct lcow_mapped_layer {
  uint64_t device_offset_in_bytes = 0;
  uint64_t device_size_in_bytes = 0;
};

struct lcow_mapped_vpmem_device {
  uint32_t device_number = 0;
  std::string mount_path;
  std::optional<lcow_mapped_layer> mapping_info; // packed layers only
};

struct lcow_mapped_vpci_device {
  std::string vmbus_guid;
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
};

// WCOW NIC guest settings: NetworkModifyRequest on host builds >= 17763,
// RS4NetworkModifyRequest (AdapterInstanceId) before.
struct network_modify_request {
  std::string adapter_id;
  std::string request_type;
  ojson settings; // any; null is omitted
  bool rs4 = false;
};

struct combined_layers {
  std::string container_root_path;
  std::vector<layer> layers;
  std::string scratch_path;
};

// Every type here and the settings of messages/hcs_settings.hpp as a JSON
// value, members in the spec's order (serialize with gojson::go_dump).
ojson to_json(const virtual_smb_share_options& x);
ojson to_json(const virtual_pci_function& x);
ojson to_json(const virtual_pci_device& x);
ojson to_json(const layer& x);
ojson to_json(const version& x);
ojson to_json(const uefi_boot_entry& x);
ojson to_json(const uefi& x);
ojson to_json(const linux_kernel_direct& x);
ojson to_json(const chipset& x);
ojson to_json(const memory2& x);
ojson to_json(const processor2& x);
ojson to_json(const topology& x);
ojson to_json(const com_port& x);
ojson to_json(const attachment& x);
ojson to_json(const scsi& x);
ojson to_json(const virtual_pmem_device& x);
ojson to_json(const virtual_pmem_controller& x);
ojson to_json(const virtual_pmem_mapping& x);
ojson to_json(const network_adapter& x);
ojson to_json(const hv_socket_service_config& x);
ojson to_json(const hv_socket_system_config& x);
ojson to_json(const hv_socket2& x);
ojson to_json(const virtual_smb_share& x);
ojson to_json(const virtual_smb& x);
ojson to_json(const plan9_share& x);
ojson to_json(const plan9& x);
ojson to_json(const devices& x);
ojson to_json(const storage_qos& x);
ojson to_json(const guest_connection& x);
ojson to_json(const virtual_machine& x);
ojson to_json(const compute_system& x);
ojson to_json(const modify_setting_request& x);
ojson to_json(const guest_request& x);
ojson to_json(const lcow_mapped_virtual_disk& x);
ojson to_json(const wcow_mapped_virtual_disk& x);
ojson to_json(const lcow_mapped_directory& x);
ojson to_json(const lcow_mapped_layer& x);
ojson to_json(const lcow_mapped_vpmem_device& x);
ojson to_json(const lcow_mapped_vpci_device& x);
ojson to_json(const lcow_network_adapter& x);
ojson to_json(const network_modify_request& x);
ojson to_json(const combined_layers& x);
ojson to_json(const processor_limits& x);

} // namespace uvm::hcs
