#include "hcs/schema.hpp"

#include <type_traits>

namespace uvm::hcs {
namespace {

// Builds one object, applying Go's omitempty rule member by member.
class members {
public:
  members& put(const char* key, const std::string& v) {
    if (!v.empty()) {
      add(key, v);
    }
    return *this;
  }
  // A string literal would otherwise silently pick the bool overload.
  members& put(const char* key, const char* v) = delete;

  members& put(const char* key, bool v) {
    if (v) {
      add(key, true);
    }
    return *this;
  }

  template <class Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  members& put(const char* key, Int v) {
    if (v != 0) {
      add(key, v);
    }
    return *this;
  }

  // An `interface{}` member: omitted only when nil.
  members& put(const char* key, const ojson& v) {
    if (!v.is_null()) {
      add(key, v);
    }
    return *this;
  }
  members& put(const char* key, ojson&& v) {
    if (!v.is_null()) {
      add(key, std::move(v));
    }
    return *this;
  }

  template <class T>
  members& put(const char* key, const std::optional<T>& v) {
    if (v) {
      add(key, v->to_json());
    }
    return *this;
  }

  template <class T>
  members& put(const char* key, const std::vector<T>& v) {
    if (!v.empty()) {
      ojson arr = ojson::array();
      for (const auto& e : v) {
        arr.push_back(value_of(e));
      }
      add(key, std::move(arr));
    }
    return *this;
  }

  // std::map iterates in byte order of the keys, which is Go's map order.
  template <class T>
  members& put(const char* key, const std::map<std::string, T>& v) {
    if (!v.empty()) {
      ojson m = ojson::object();
      for (const auto& [k, e] : v) {
        m[k] = value_of(e);
      }
      add(key, std::move(m));
    }
    return *this;
  }

  ojson done() { return std::move(obj_); }

private:
  // Every to_json names each member once, so there is nothing to look up
  // (ordered_json's operator[] searches the members first).
  void add(const char* key, ojson v) {
    obj_.get_ref<ojson::object_t&>().emplace_back(key, std::move(v));
  }

  static ojson value_of(const std::string& s) { return s; }
  template <class T>
  static ojson value_of(const T& v) {
    return v.to_json();
  }

  ojson obj_ = ojson::object();
};

} // namespace

std::string scsi_attachment_path(uint32_t controller, uint32_t lun) {
  return "VirtualMachine/Devices/Scsi/" + std::to_string(controller) + "/Attachments/" +
         std::to_string(lun);
}

std::string vpmem_device_path(uint32_t device_number) {
  return "VirtualMachine/Devices/VirtualPMem/Devices/" + std::to_string(device_number);
}

std::string mapped_pipe_path(const std::string& host_pipe) {
  return "VirtualMachine/Devices/MappedPipes/" + host_pipe;
}

std::string network_adapter_path(const std::string& nic_id) {
  return "VirtualMachine/Devices/NetworkAdapters/" + nic_id;
}

std::string virtual_pci_path(const std::string& device_id) {
  return "VirtualMachine/Devices/VirtualPci/" + device_id;
}

ojson version::to_json() const {
  return members().put("Major", major).put("Minor", minor).done();
}

ojson uefi_boot_entry::to_json() const {
  return members()
      .put("DeviceType", device_type)
      .put("DevicePath", device_path)
      .put("DiskNumber", disk_number)
      .put("OptionalData", optional_data)
      .put("VmbFsRootPath", vmb_fs_root_path)
      .done();
}

ojson uefi::to_json() const {
  return members()
      .put("EnableDebugger", enable_debugger)
      .put("SecureBootTemplateId", secure_boot_template_id)
      .put("BootThis", boot_this)
      .put("Console", console)
      .done();
}

ojson linux_kernel_direct::to_json() const {
  return members()
      .put("KernelFilePath", kernel_file_path)
      .put("InitRdPath", init_rd_path)
      .put("KernelCmdLine", kernel_cmd_line)
      .done();
}

ojson chipset::to_json() const {
  return members()
      .put("Uefi", uefi)
      .put("IsNumLockDisabled", is_num_lock_disabled)
      .put("BaseBoardSerialNumber", base_board_serial_number)
      .put("ChassisSerialNumber", chassis_serial_number)
      .put("ChassisAssetTag", chassis_asset_tag)
      .put("UseUtc", use_utc)
      .put("LinuxKernelDirect", linux_kernel_direct)
      .done();
}

ojson memory2::to_json() const {
  return members()
      .put("SizeInMB", size_in_mb)
      .put("AllowOvercommit", allow_overcommit)
      .put("EnableHotHint", enable_hot_hint)
      .put("EnableColdHint", enable_cold_hint)
      .put("EnableEpf", enable_epf)
      .put("EnableDeferredCommit", enable_deferred_commit)
      .put("EnableColdDiscardHint", enable_cold_discard_hint)
      .put("LowMmioGapInMB", low_mmio_gap_in_mb)
      .put("HighMmioBaseInMB", high_mmio_base_in_mb)
      .put("HighMmioGapInMB", high_mmio_gap_in_mb)
      .done();
}

ojson processor2::to_json() const {
  return members()
      .put("Count", count)
      .put("Limit", limit)
      .put("Weight", weight)
      .put("ExposeVirtualizationExtensions", expose_virtualization_extensions)
      .done();
}

ojson topology::to_json() const {
  return members().put("Memory", memory).put("Processor", processor).done();
}

ojson com_port::to_json() const {
  return members()
      .put("NamedPipe", named_pipe)
      .put("OptimizeForDebugger", optimize_for_debugger)
      .done();
}

ojson attachment::to_json() const {
  return members()
      .put("Type", type)
      .put("Path", path)
      .put("IgnoreFlushes", ignore_flushes)
      .put("CachingMode", caching_mode)
      .put("NoWriteHardening", no_write_hardening)
      .put("DisableExpansionOptimization", disable_expansion_optimization)
      .put("IgnoreRelativeLocator", ignore_relative_locator)
      .put("CaptureIoAttributionContext", capture_io_attribution_context)
      .put("ReadOnly", read_only)
      .done();
}

ojson scsi::to_json() const {
  return members().put("Attachments", attachments).done();
}

ojson virtual_pmem_device::to_json() const {
  return members()
      .put("HostPath", host_path)
      .put("ReadOnly", read_only)
      .put("ImageFormat", image_format)
      .done();
}

ojson virtual_pmem_controller::to_json() const {
  return members()
      .put("Devices", devices)
      .put("MaximumCount", maximum_count)
      .put("MaximumSizeBytes", maximum_size_bytes)
      .put("Backing", backing)
      .done();
}

ojson network_adapter::to_json() const {
  return members().put("EndpointId", endpoint_id).put("MacAddress", mac_address).done();
}

ojson hv_socket_service_config::to_json() const {
  return members()
      .put("BindSecurityDescriptor", bind_security_descriptor)
      .put("ConnectSecurityDescriptor", connect_security_descriptor)
      .put("AllowWildcardBinds", allow_wildcard_binds)
      .done();
}

ojson hv_socket_system_config::to_json() const {
  return members()
      .put("DefaultBindSecurityDescriptor", default_bind_security_descriptor)
      .put("DefaultConnectSecurityDescriptor", default_connect_security_descriptor)
      .put("ServiceTable", service_table)
      .done();
}

ojson hv_socket2::to_json() const {
  return members().put("HvSocketConfig", hv_socket_config).done();
}

ojson virtual_smb_share_options::to_json() const {
  return members()
      .put("ReadOnly", read_only)
      .put("ShareRead", share_read)
      .put("CacheIo", cache_io)
      .put("NoOplocks", no_oplocks)
      .put("TakeBackupPrivilege", take_backup_privilege)
      .put("UseShareRootIdentity", use_share_root_identity)
      .put("NoDirectmap", no_directmap)
      .put("NoLocks", no_locks)
      .put("NoDirnotify", no_dirnotify)
      .put("VmSharedMemory", vm_shared_memory)
      .put("RestrictFileAccess", restrict_file_access)
      .put("ForceLevelIIOplocks", force_level_ii_oplocks)
      .put("ReparseBaseLayer", reparse_base_layer)
      .put("PseudoOplocks", pseudo_oplocks)
      .put("NonCacheIo", non_cache_io)
      .put("PseudoDirnotify", pseudo_dirnotify)
      .put("SingleFileMapping", single_file_mapping)
      .done();
}

ojson virtual_smb_share::to_json() const {
  return members()
      .put("Name", name)
      .put("Path", path)
      .put("AllowedFiles", allowed_files)
      .put("Options", options)
      .done();
}

ojson virtual_smb::to_json() const {
  return members()
      .put("Shares", shares)
      .put("DirectFileMappingInMB", direct_file_mapping_in_mb)
      .done();
}

ojson plan9_share::to_json() const {
  return members()
      .put("Name", name)
      .put("AccessName", access_name)
      .put("Path", path)
      .put("Port", port)
      .put("Flags", flags)
      .put("ReadOnly", read_only)
      .put("UseShareRootIdentity", use_share_root_identity)
      .put("AllowedFiles", allowed_files)
      .done();
}

ojson plan9::to_json() const {
  return members().put("Shares", shares).done();
}

ojson virtual_pci_function::to_json() const {
  return members()
      .put("DeviceInstancePath", device_instance_path)
      .put("VirtualFunction", virtual_function)
      .done();
}

ojson virtual_pci_device::to_json() const {
  return members().put("Functions", functions).done();
}

ojson devices::to_json() const {
  return members()
      .put("ComPorts", com_ports)
      .put("Scsi", scsi)
      .put("VirtualPMem", virtual_pmem)
      .put("NetworkAdapters", network_adapters)
      .put("VideoMonitor", video_monitor)
      .put("Keyboard", keyboard)
      .put("Mouse", mouse)
      .put("HvSocket", hv_socket)
      .put("EnhancedModeVideo", enhanced_mode_video)
      .put("VirtualSmb", virtual_smb)
      .put("Plan9", plan9)
      .put("Battery", battery)
      .put("VirtualPci", virtual_pci)
      .done();
}

ojson storage_qos::to_json() const {
  return members()
      .put("IopsMaximum", iops_maximum)
      .put("BandwidthMaximum", bandwidth_maximum)
      .done();
}

ojson guest_connection::to_json() const {
  return members()
      .put("UseVsock", use_vsock)
      .put("UseConnectedSuspend", use_connected_suspend)
      .done();
}

ojson virtual_machine::to_json() const {
  return members()
      .put("StopOnReset", stop_on_reset)
      .put("Chipset", chipset)
      .put("ComputeTopology", compute_topology)
      .put("Devices", devices)
      .put("StorageQoS", storage_qos)
      .put("GuestConnection", guest_connection)
      .done();
}

ojson compute_system::to_json() const {
  return members()
      .put("Owner", owner)
      .put("SchemaVersion", schema_version)
      .put("HostingSystemId", hosting_system_id)
      .put("HostedSystem", hosted_system)
      .put("VirtualMachine", virtual_machine)
      .put("ShouldTerminateOnLastHandleClosed", should_terminate_on_last_handle_closed)
      .done();
}

ojson layer::to_json() const {
  return members()
      .put("Id", id)
      .put("Path", path)
      .put("PathType", path_type)
      .put("Cache", cache)
      .done();
}

ojson modify_setting_request::to_json() const& {
  return modify_setting_request{*this}.to_json();
}

ojson modify_setting_request::to_json() && {
  members m;
  m.put("ResourcePath", resource_path)
      .put("RequestType", request_type)
      .put("Settings", std::move(settings));
  if (guest_request) {
    m.put("GuestRequest", std::move(*guest_request));
  }
  return m.done();
}

ojson guest_request::to_json() const& {
  return guest_request{*this}.to_json();
}

ojson guest_request::to_json() && {
  return members()
      .put("RequestType", request_type)
      .put("ResourceType", resource_type)
      .put("Settings", std::move(settings))
      .done();
}

ojson lcow_mapped_virtual_disk::to_json() const {
  return members()
      .put("MountPath", mount_path)
      .put("Lun", lun)
      .put("Controller", controller)
      .put("ReadOnly", read_only)
      .done();
}

ojson wcow_mapped_virtual_disk::to_json() const {
  return members().put("ContainerPath", container_path).put("Lun", lun).done();
}

ojson lcow_mapped_directory::to_json() const {
  return members()
      .put("MountPath", mount_path)
      .put("Port", port)
      .put("ShareName", share_name)
      .put("ReadOnly", read_only)
      .done();
}

ojson lcow_mapped_vpmem_device::to_json() const {
  return members().put("DeviceNumber", device_number).put("MountPath", mount_path).done();
}

ojson lcow_mapped_vpci_device::to_json() const {
  return members().put("VMBusGUID", vmbus_guid).done();
}

ojson lcow_network_adapter::to_json() const {
  return members()
      .put("NamespaceID", namespace_id)
      .put("ID", id)
      .put("MacAddress", mac_address)
      .put("IPAddress", ip_address)
      .put("PrefixLength", prefix_length)
      .put("GatewayAddress", gateway_address)
      .put("DNSSuffix", dns_suffix)
      .put("DNSServerList", dns_server_list)
      .put("EnableLowMetric", enable_low_metric)
      .put("EncapOverhead", encap_overhead)
      .done();
}

ojson network_modify_request::to_json() const {
  return members()
      .put(rs4 ? "AdapterInstanceId" : "AdapterId", adapter_id)
      .put("RequestType", request_type)
      .put("Settings", settings)
      .done();
}

ojson combined_layers::to_json() const {
  return members()
      .put("ContainerRootPath", container_root_path)
      .put("Layers", layers)
      .put("ScratchPath", scratch_path)
      .done();
}

} // namespace uvm::hcs
