#include "hcs/schema.hpp"

#include <type_traits>

#include "hcs/go_json.hpp"

namespace uvm::hcs {
namespace {

// Applies Go's omitempty rule member by member and hands what is left to
// the sink: json_sink builds a JSON value (to_json), text_sink writes Go's
// text straight away (go_text).
template <class Sink>
class members {
public:
  explicit members(Sink& sink) : sink_(sink) {}

  members& put(const char* key, const std::string& v) {
    if (!v.empty()) {
      sink_.member(key, v);
    }
    return *this;
  }
  // A string literal would otherwise silently pick the bool overload.
  members& put(const char* key, const char* v) = delete;

  members& put(const char* key, bool v) {
    if (v) {
      sink_.member(key, true);
    }
    return *this;
  }

  template <class Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  members& put(const char* key, Int v) {
    if (v != 0) {
      sink_.member(key, v);
    }
    return *this;
  }

  // An `interface{}` member: omitted only when nil.
  members& put(const char* key, const ojson& v) {
    if (!v.is_null()) {
      sink_.member(key, v);
    }
    return *this;
  }

  members& put(const char* key, const raw_json& v) {
    if (!v.text.empty()) {
      sink_.member(key, v);
    }
    return *this;
  }

  template <class T>
  members& put(const char* key, const std::optional<T>& v) {
    if (v) {
      sink_.member(key, *v);
    }
    return *this;
  }

  template <class T>
  members& put(const char* key, const std::vector<T>& v) {
    if (!v.empty()) {
      sink_.member(key, v);
    }
    return *this;
  }

  // std::map iterates in byte order of the keys, which is Go's map order.
  template <class T>
  members& put(const char* key, const std::map<std::string, T>& v) {
    if (!v.empty()) {
      sink_.member(key, v);
    }
    return *this;
  }

private:
  Sink& sink_;
};

template <class T>
ojson json_of(const T& v);

class json_sink {
public:
  json_sink() {
    // Room for the members up front: growing the vector would copy every
    // key, as the pairs' keys are const.
    obj_.get_ref<ojson::object_t&>().reserve(8);
  }

  // Every describe names each member once, so there is nothing to look up
  // (ordered_json's operator[] searches the members first).
  void member(const char* key, ojson v) {
    obj_.get_ref<ojson::object_t&>().emplace_back(key, std::move(v));
  }
  void member(const char* key, const std::string& v) { member(key, ojson(v)); }
  void member(const char* key, const raw_json& v) { member(key, ojson::parse(v.text)); }
  template <class T, std::enable_if_t<std::is_class_v<T>, int> = 0>
  void member(const char* key, const T& v) {
    member(key, json_of(v));
  }
  template <class T>
  void member(const char* key, const std::vector<T>& v) {
    ojson arr = ojson::array();
    for (const auto& e : v) {
      arr.push_back(value_of(e));
    }
    member(key, std::move(arr));
  }
  template <class T>
  void member(const char* key, const std::map<std::string, T>& v) {
    ojson m = ojson::object();
    for (const auto& [k, e] : v) {
      m[k] = value_of(e);
    }
    member(key, std::move(m));
  }

  ojson done() { return std::move(obj_); }

private:
  static ojson value_of(const std::string& s) { return s; }
  template <class T>
  static ojson value_of(const T& v) {
    return json_of(v);
  }

  ojson obj_ = ojson::object();
};

class text_sink {
public:
  explicit text_sink(std::string& out) : out_(out) { out_ += '{'; }

  void member(const char* key, const std::string& v) { go_append_string(key_(key), v); }
  void member(const char* key, bool v) { key_(key) += v ? "true" : "false"; }
  template <class Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void member(const char* key, Int v) {
    key_(key) += std::to_string(v);
  }
  void member(const char* key, const ojson& v) { go_append(key_(key), v); }
  void member(const char* key, const raw_json& v) { key_(key) += v.text; }
  template <class T, std::enable_if_t<std::is_class_v<T>, int> = 0>
  void member(const char* key, const T& v) {
    object(key_(key), v);
  }
  template <class T>
  void member(const char* key, const std::vector<T>& v) {
    auto& out = key_(key);
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      value(out, v[i]);
    }
    out += ']';
  }
  template <class T>
  void member(const char* key, const std::map<std::string, T>& v) {
    auto& out = key_(key);
    out += '{';
    bool first = true;
    for (const auto& [k, e] : v) {
      if (!first) {
        out += ',';
      }
      first = false;
      go_append_string(out, k);
      out += ':';
      value(out, e);
    }
    out += '}';
  }

  void close() { out_ += '}'; }

  template <class T>
  static void object(std::string& out, const T& v) {
    text_sink sub{out};
    members<text_sink> m{sub};
    v.describe(m);
    sub.close();
  }

private:
  // Starts a member: the comma before all but the first, then the key. The
  // keys are the schema's own names, plain ASCII that needs no escaping.
  std::string& key_(const char* key) {
    if (!first_) {
      out_ += ',';
    }
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
    return out_;
  }

  static void value(std::string& out, const std::string& s) { go_append_string(out, s); }
  template <class T>
  static void value(std::string& out, const T& v) {
    object(out, v);
  }

  std::string& out_;
  bool first_ = true;
};

template <class T>
ojson json_of(const T& v) {
  json_sink sink;
  members<json_sink> m{sink};
  v.describe(m);
  return sink.done();
}

} // namespace

template <class T>
std::string go_text(const T& x) {
  std::string out;
  out.reserve(256);
  text_sink::object(out, x);
  return out;
}

std::string scsi_attachment_path(uint32_t controller, uint32_t lun) {
  std::string out = "VirtualMachine/Devices/Scsi/";
  out.reserve(64);
  out += std::to_string(controller);
  out += "/Attachments/";
  out += std::to_string(lun);
  return out;
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

template <class M>
void version::describe(M& m) const {
  m.put("Major", major).put("Minor", minor);
}

template <class M>
void uefi_boot_entry::describe(M& m) const {
  m.put("DeviceType", device_type)
      .put("DevicePath", device_path)
      .put("DiskNumber", disk_number)
      .put("OptionalData", optional_data)
      .put("VmbFsRootPath", vmb_fs_root_path);
}

template <class M>
void uefi::describe(M& m) const {
  m.put("EnableDebugger", enable_debugger)
      .put("SecureBootTemplateId", secure_boot_template_id)
      .put("BootThis", boot_this)
      .put("Console", console);
}

template <class M>
void linux_kernel_direct::describe(M& m) const {
  m.put("KernelFilePath", kernel_file_path)
      .put("InitRdPath", init_rd_path)
      .put("KernelCmdLine", kernel_cmd_line);
}

template <class M>
void chipset::describe(M& m) const {
  m.put("Uefi", uefi)
      .put("IsNumLockDisabled", is_num_lock_disabled)
      .put("BaseBoardSerialNumber", base_board_serial_number)
      .put("ChassisSerialNumber", chassis_serial_number)
      .put("ChassisAssetTag", chassis_asset_tag)
      .put("UseUtc", use_utc)
      .put("LinuxKernelDirect", linux_kernel_direct);
}

template <class M>
void memory2::describe(M& m) const {
  m.put("SizeInMB", size_in_mb)
      .put("AllowOvercommit", allow_overcommit)
      .put("EnableHotHint", enable_hot_hint)
      .put("EnableColdHint", enable_cold_hint)
      .put("EnableEpf", enable_epf)
      .put("EnableDeferredCommit", enable_deferred_commit)
      .put("EnableColdDiscardHint", enable_cold_discard_hint)
      .put("LowMmioGapInMB", low_mmio_gap_in_mb)
      .put("HighMmioBaseInMB", high_mmio_base_in_mb)
      .put("HighMmioGapInMB", high_mmio_gap_in_mb);
}

template <class M>
void processor2::describe(M& m) const {
  m.put("Count", count)
      .put("Limit", limit)
      .put("Weight", weight)
      .put("ExposeVirtualizationExtensions", expose_virtualization_extensions);
}

template <class M>
void topology::describe(M& m) const {
  m.put("Memory", memory).put("Processor", processor);
}

template <class M>
void com_port::describe(M& m) const {
  m.put("NamedPipe", named_pipe).put("OptimizeForDebugger", optimize_for_debugger);
}

template <class M>
void attachment::describe(M& m) const {
  m.put("Type", type)
      .put("Path", path)
      .put("IgnoreFlushes", ignore_flushes)
      .put("CachingMode", caching_mode)
      .put("NoWriteHardening", no_write_hardening)
      .put("DisableExpansionOptimization", disable_expansion_optimization)
      .put("IgnoreRelativeLocator", ignore_relative_locator)
      .put("CaptureIoAttributionContext", capture_io_attribution_context)
      .put("ReadOnly", read_only);
}

template <class M>
void scsi::describe(M& m) const {
  m.put("Attachments", attachments);
}

template <class M>
void virtual_pmem_device::describe(M& m) const {
  m.put("HostPath", host_path).put("ReadOnly", read_only).put("ImageFormat", image_format);
}

template <class M>
void virtual_pmem_controller::describe(M& m) const {
  m.put("Devices", devices)
      .put("MaximumCount", maximum_count)
      .put("MaximumSizeBytes", maximum_size_bytes)
      .put("Backing", backing);
}

template <class M>
void network_adapter::describe(M& m) const {
  m.put("EndpointId", endpoint_id).put("MacAddress", mac_address);
}

template <class M>
void hv_socket_service_config::describe(M& m) const {
  m.put("BindSecurityDescriptor", bind_security_descriptor)
      .put("ConnectSecurityDescriptor", connect_security_descriptor)
      .put("AllowWildcardBinds", allow_wildcard_binds);
}

template <class M>
void hv_socket_system_config::describe(M& m) const {
  m.put("DefaultBindSecurityDescriptor", default_bind_security_descriptor)
      .put("DefaultConnectSecurityDescriptor", default_connect_security_descriptor)
      .put("ServiceTable", service_table);
}

template <class M>
void hv_socket2::describe(M& m) const {
  m.put("HvSocketConfig", hv_socket_config);
}

template <class M>
void virtual_smb_share_options::describe(M& m) const {
  m.put("ReadOnly", read_only)
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
      .put("SingleFileMapping", single_file_mapping);
}

template <class M>
void virtual_smb_share::describe(M& m) const {
  m.put("Name", name).put("Path", path).put("AllowedFiles", allowed_files).put("Options", options);
}

template <class M>
void virtual_smb::describe(M& m) const {
  m.put("Shares", shares).put("DirectFileMappingInMB", direct_file_mapping_in_mb);
}

template <class M>
void plan9_share::describe(M& m) const {
  m.put("Name", name)
      .put("AccessName", access_name)
      .put("Path", path)
      .put("Port", port)
      .put("Flags", flags)
      .put("ReadOnly", read_only)
      .put("UseShareRootIdentity", use_share_root_identity)
      .put("AllowedFiles", allowed_files);
}

template <class M>
void plan9::describe(M& m) const {
  m.put("Shares", shares);
}

template <class M>
void virtual_pci_function::describe(M& m) const {
  m.put("DeviceInstancePath", device_instance_path).put("VirtualFunction", virtual_function);
}

template <class M>
void virtual_pci_device::describe(M& m) const {
  m.put("Functions", functions);
}

template <class M>
void devices::describe(M& m) const {
  m.put("ComPorts", com_ports)
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
      .put("VirtualPci", virtual_pci);
}

template <class M>
void storage_qos::describe(M& m) const {
  m.put("IopsMaximum", iops_maximum).put("BandwidthMaximum", bandwidth_maximum);
}

template <class M>
void guest_connection::describe(M& m) const {
  m.put("UseVsock", use_vsock).put("UseConnectedSuspend", use_connected_suspend);
}

template <class M>
void virtual_machine::describe(M& m) const {
  m.put("StopOnReset", stop_on_reset)
      .put("Chipset", chipset)
      .put("ComputeTopology", compute_topology)
      .put("Devices", devices)
      .put("StorageQoS", storage_qos)
      .put("GuestConnection", guest_connection);
}

template <class M>
void compute_system::describe(M& m) const {
  m.put("Owner", owner)
      .put("SchemaVersion", schema_version)
      .put("HostingSystemId", hosting_system_id)
      .put("HostedSystem", hosted_system)
      .put("VirtualMachine", virtual_machine)
      .put("ShouldTerminateOnLastHandleClosed", should_terminate_on_last_handle_closed);
}

template <class M>
void layer::describe(M& m) const {
  m.put("Id", id).put("Path", path).put("PathType", path_type).put("Cache", cache);
}

template <class M>
void modify_setting_request::describe(M& m) const {
  m.put("ResourcePath", resource_path)
      .put("RequestType", request_type)
      .put("Settings", settings)
      .put("GuestRequest", guest_request);
}

template <class M>
void guest_request::describe(M& m) const {
  m.put("RequestType", request_type).put("ResourceType", resource_type).put("Settings", settings);
}

template <class M>
void lcow_mapped_virtual_disk::describe(M& m) const {
  m.put("MountPath", mount_path)
      .put("Lun", lun)
      .put("Controller", controller)
      .put("ReadOnly", read_only);
}

template <class M>
void wcow_mapped_virtual_disk::describe(M& m) const {
  m.put("ContainerPath", container_path).put("Lun", lun);
}

template <class M>
void lcow_mapped_directory::describe(M& m) const {
  m.put("MountPath", mount_path)
      .put("Port", port)
      .put("ShareName", share_name)
      .put("ReadOnly", read_only);
}

template <class M>
void lcow_mapped_vpmem_device::describe(M& m) const {
  m.put("DeviceNumber", device_number).put("MountPath", mount_path);
}

template <class M>
void lcow_mapped_vpci_device::describe(M& m) const {
  m.put("VMBusGUID", vmbus_guid);
}

template <class M>
void lcow_network_adapter::describe(M& m) const {
  m.put("NamespaceID", namespace_id)
      .put("ID", id)
      .put("MacAddress", mac_address)
      .put("IPAddress", ip_address)
      .put("PrefixLength", prefix_length)
      .put("GatewayAddress", gateway_address)
      .put("DNSSuffix", dns_suffix)
      .put("DNSServerList", dns_server_list)
      .put("EnableLowMetric", enable_low_metric)
      .put("EncapOverhead", encap_overhead);
}

template <class M>
void network_modify_request::describe(M& m) const {
  m.put(rs4 ? "AdapterInstanceId" : "AdapterId", adapter_id)
      .put("RequestType", request_type)
      .put("Settings", settings);
}

template <class M>
void combined_layers::describe(M& m) const {
  m.put("ContainerRootPath", container_root_path)
      .put("Layers", layers)
      .put("ScratchPath", scratch_path);
}

// Both outputs of every type come from its describe().
#define UVM_SCHEMA_OUTPUTS(T)                                                                      \
  ojson T::to_json() const {                                                                       \
    return json_of(*this);                                                                         \
  }                                                                                                \
  template std::string go_text(const T&);

UVM_SCHEMA_OUTPUTS(version)
UVM_SCHEMA_OUTPUTS(uefi_boot_entry)
UVM_SCHEMA_OUTPUTS(uefi)
UVM_SCHEMA_OUTPUTS(linux_kernel_direct)
UVM_SCHEMA_OUTPUTS(chipset)
UVM_SCHEMA_OUTPUTS(memory2)
UVM_SCHEMA_OUTPUTS(processor2)
UVM_SCHEMA_OUTPUTS(topology)
UVM_SCHEMA_OUTPUTS(com_port)
UVM_SCHEMA_OUTPUTS(attachment)
UVM_SCHEMA_OUTPUTS(scsi)
UVM_SCHEMA_OUTPUTS(virtual_pmem_device)
UVM_SCHEMA_OUTPUTS(virtual_pmem_controller)
UVM_SCHEMA_OUTPUTS(network_adapter)
UVM_SCHEMA_OUTPUTS(hv_socket_service_config)
UVM_SCHEMA_OUTPUTS(hv_socket_system_config)
UVM_SCHEMA_OUTPUTS(hv_socket2)
UVM_SCHEMA_OUTPUTS(virtual_smb_share_options)
UVM_SCHEMA_OUTPUTS(virtual_smb_share)
UVM_SCHEMA_OUTPUTS(virtual_smb)
UVM_SCHEMA_OUTPUTS(plan9_share)
UVM_SCHEMA_OUTPUTS(plan9)
UVM_SCHEMA_OUTPUTS(virtual_pci_function)
UVM_SCHEMA_OUTPUTS(virtual_pci_device)
UVM_SCHEMA_OUTPUTS(devices)
UVM_SCHEMA_OUTPUTS(storage_qos)
UVM_SCHEMA_OUTPUTS(guest_connection)
UVM_SCHEMA_OUTPUTS(virtual_machine)
UVM_SCHEMA_OUTPUTS(compute_system)
UVM_SCHEMA_OUTPUTS(layer)
UVM_SCHEMA_OUTPUTS(modify_setting_request)
UVM_SCHEMA_OUTPUTS(guest_request)
UVM_SCHEMA_OUTPUTS(lcow_mapped_virtual_disk)
UVM_SCHEMA_OUTPUTS(wcow_mapped_virtual_disk)
UVM_SCHEMA_OUTPUTS(lcow_mapped_directory)
UVM_SCHEMA_OUTPUTS(lcow_mapped_vpmem_device)
UVM_SCHEMA_OUTPUTS(lcow_mapped_vpci_device)
UVM_SCHEMA_OUTPUTS(lcow_network_adapter)
UVM_SCHEMA_OUTPUTS(network_modify_request)
UVM_SCHEMA_OUTPUTS(combined_layers)

#undef UVM_SCHEMA_OUTPUTS

} // namespace uvm::hcs
