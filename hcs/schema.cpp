#include "hcs/schema.hpp"

#include <algorithm>
#include <charconv>
#include <type_traits>

#include "gojson/go_json.hpp"

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
  members& put(const char* key, std::string_view v) {
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

  members& put(const char* key, const raw_json_view& v) {
    if (!v.text.empty()) {
      sink_.member(key, v);
    }
    return *this;
  }

  template <class T>
  members& put(const char* key, const nested_json<T>& v) {
    if (v.value != nullptr) {
      sink_.member(key, *v.value);
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
  void member(const char* key, std::string_view v) { member(key, ojson(std::string(v))); }
  void member(const char* key, const raw_json& v) { member(key, ojson::parse(v.text)); }
  void member(const char* key, const raw_json_view& v) { member(key, ojson::parse(v.text)); }
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

  void member(const char* key, const std::string& v) { gojson::go_append_string(key_(key), v); }
  void member(const char* key, std::string_view v) { gojson::go_append_string(key_(key), v); }
  void member(const char* key, bool v) { key_(key) += v ? "true" : "false"; }
  template <class Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void member(const char* key, Int v) {
    key_(key) += std::to_string(v);
  }
  void member(const char* key, const ojson& v) { gojson::go_append(key_(key), v); }
  void member(const char* key, const raw_json& v) { key_(key) += v.text; }
  void member(const char* key, const raw_json_view& v) { key_(key) += v.text; }
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
      gojson::go_append_string(out, k);
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
    describe(m, v);
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

  static void value(std::string& out, const std::string& s) { gojson::go_append_string(out, s); }
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
  describe(m, v);
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
  scsi_path_buffer buffer;
  return std::string(scsi_attachment_path(controller, lun, buffer));
}

std::string_view scsi_attachment_path(uint32_t controller, uint32_t lun, scsi_path_buffer& buffer) {
  constexpr std::string_view devices = "VirtualMachine/Devices/Scsi/";
  constexpr std::string_view attachments = "/Attachments/";
  char* p = std::copy(devices.begin(), devices.end(), buffer.data());
  p = std::to_chars(p, buffer.data() + buffer.size(), controller).ptr;
  p = std::copy(attachments.begin(), attachments.end(), p);
  p = std::to_chars(p, buffer.data() + buffer.size(), lun).ptr;
  return {buffer.data(), static_cast<size_t>(p - buffer.data())};
}

std::string vpmem_device_path(uint32_t device_number) {
  return "VirtualMachine/Devices/VirtualPMem/Devices/" + std::to_string(device_number);
}

std::string vpmem_mapping_path(uint32_t device_number, uint64_t offset) {
  return vpmem_device_path(device_number) + "/Mappings/" + std::to_string(offset);
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
void describe(M&, const empty_device&) {}

template <class M>
void describe(M& m, const version& x) {
  m.put("Major", x.major).put("Minor", x.minor);
}

template <class M>
void describe(M& m, const uefi_boot_entry& x) {
  m.put("DeviceType", x.device_type)
      .put("DevicePath", x.device_path)
      .put("DiskNumber", x.disk_number)
      .put("OptionalData", x.optional_data)
      .put("VmbFsRootPath", x.vmb_fs_root_path);
}

template <class M>
void describe(M& m, const uefi& x) {
  m.put("EnableDebugger", x.enable_debugger)
      .put("SecureBootTemplateId", x.secure_boot_template_id)
      .put("BootThis", x.boot_this)
      .put("Console", x.console);
}

template <class M>
void describe(M& m, const linux_kernel_direct& x) {
  m.put("KernelFilePath", x.kernel_file_path)
      .put("InitRdPath", x.init_rd_path)
      .put("KernelCmdLine", x.kernel_cmd_line);
}

template <class M>
void describe(M& m, const chipset& x) {
  m.put("Uefi", x.uefi)
      .put("IsNumLockDisabled", x.is_num_lock_disabled)
      .put("BaseBoardSerialNumber", x.base_board_serial_number)
      .put("ChassisSerialNumber", x.chassis_serial_number)
      .put("ChassisAssetTag", x.chassis_asset_tag)
      .put("UseUtc", x.use_utc)
      .put("LinuxKernelDirect", x.linux_kernel_direct);
}

template <class M>
void describe(M& m, const memory2& x) {
  m.put("SizeInMB", x.size_in_mb)
      .put("AllowOvercommit", x.allow_overcommit)
      .put("EnableHotHint", x.enable_hot_hint)
      .put("EnableColdHint", x.enable_cold_hint)
      .put("EnableEpf", x.enable_epf)
      .put("EnableDeferredCommit", x.enable_deferred_commit)
      .put("EnableColdDiscardHint", x.enable_cold_discard_hint)
      .put("LowMmioGapInMB", x.low_mmio_gap_in_mb)
      .put("HighMmioBaseInMB", x.high_mmio_base_in_mb)
      .put("HighMmioGapInMB", x.high_mmio_gap_in_mb);
}

template <class M>
void describe(M& m, const processor2& x) {
  m.put("Count", x.count)
      .put("Limit", x.limit)
      .put("Weight", x.weight)
      .put("ExposeVirtualizationExtensions", x.expose_virtualization_extensions);
}

template <class M>
void describe(M& m, const topology& x) {
  m.put("Memory", x.memory).put("Processor", x.processor);
}

template <class M>
void describe(M& m, const com_port& x) {
  m.put("NamedPipe", x.named_pipe).put("OptimizeForDebugger", x.optimize_for_debugger);
}

template <class M>
void describe(M& m, const attachment& x) {
  m.put("Type", x.type)
      .put("Path", x.path)
      .put("IgnoreFlushes", x.ignore_flushes)
      .put("CachingMode", x.caching_mode)
      .put("NoWriteHardening", x.no_write_hardening)
      .put("DisableExpansionOptimization", x.disable_expansion_optimization)
      .put("IgnoreRelativeLocator", x.ignore_relative_locator)
      .put("CaptureIoAttributionContext", x.capture_io_attribution_context)
      .put("ReadOnly", x.read_only);
}

template <class M>
void describe(M& m, const scsi& x) {
  m.put("Attachments", x.attachments);
}

template <class M>
void describe(M& m, const virtual_pmem_device& x) {
  m.put("HostPath", x.host_path).put("ReadOnly", x.read_only).put("ImageFormat", x.image_format);
}

template <class M>
void describe(M& m, const virtual_pmem_mapping& x) {
  m.put("HostPath", x.host_path).put("ImageFormat", x.image_format);
}

template <class M>
void describe(M& m, const virtual_pmem_controller& x) {
  m.put("Devices", x.devices)
      .put("MaximumCount", x.maximum_count)
      .put("MaximumSizeBytes", x.maximum_size_bytes)
      .put("Backing", x.backing);
}

template <class M>
void describe(M& m, const network_adapter& x) {
  m.put("EndpointId", x.endpoint_id).put("MacAddress", x.mac_address);
}

template <class M>
void describe(M& m, const hv_socket_service_config& x) {
  m.put("BindSecurityDescriptor", x.bind_security_descriptor)
      .put("ConnectSecurityDescriptor", x.connect_security_descriptor)
      .put("AllowWildcardBinds", x.allow_wildcard_binds);
}

template <class M>
void describe(M& m, const hv_socket_system_config& x) {
  m.put("DefaultBindSecurityDescriptor", x.default_bind_security_descriptor)
      .put("DefaultConnectSecurityDescriptor", x.default_connect_security_descriptor)
      .put("ServiceTable", x.service_table);
}

template <class M>
void describe(M& m, const hv_socket2& x) {
  m.put("HvSocketConfig", x.hv_socket_config);
}

template <class M>
void describe(M& m, const virtual_smb_share_options& x) {
  m.put("ReadOnly", x.read_only)
      .put("ShareRead", x.share_read)
      .put("CacheIo", x.cache_io)
      .put("NoOplocks", x.no_oplocks)
      .put("TakeBackupPrivilege", x.take_backup_privilege)
      .put("UseShareRootIdentity", x.use_share_root_identity)
      .put("NoDirectmap", x.no_directmap)
      .put("NoLocks", x.no_locks)
      .put("NoDirnotify", x.no_dirnotify)
      .put("VmSharedMemory", x.vm_shared_memory)
      .put("RestrictFileAccess", x.restrict_file_access)
      .put("ForceLevelIIOplocks", x.force_level_ii_oplocks)
      .put("ReparseBaseLayer", x.reparse_base_layer)
      .put("PseudoOplocks", x.pseudo_oplocks)
      .put("NonCacheIo", x.non_cache_io)
      .put("PseudoDirnotify", x.pseudo_dirnotify)
      .put("SingleFileMapping", x.single_file_mapping);
}

template <class M>
void describe(M& m, const virtual_smb_share& x) {
  m.put("Name", x.name)
      .put("Path", x.path)
      .put("AllowedFiles", x.allowed_files)
      .put("Options", x.options);
}

template <class M>
void describe(M& m, const virtual_smb& x) {
  m.put("Shares", x.shares).put("DirectFileMappingInMB", x.direct_file_mapping_in_mb);
}

template <class M>
void describe(M& m, const plan9_share& x) {
  m.put("Name", x.name)
      .put("AccessName", x.access_name)
      .put("Path", x.path)
      .put("Port", x.port)
      .put("Flags", x.flags)
      .put("ReadOnly", x.read_only)
      .put("UseShareRootIdentity", x.use_share_root_identity)
      .put("AllowedFiles", x.allowed_files);
}

template <class M>
void describe(M& m, const plan9& x) {
  m.put("Shares", x.shares);
}

template <class M>
void describe(M& m, const virtual_pci_function& x) {
  m.put("DeviceInstancePath", x.device_instance_path).put("VirtualFunction", x.virtual_function);
}

template <class M>
void describe(M& m, const virtual_pci_device& x) {
  m.put("Functions", x.functions);
}

template <class M>
void describe(M& m, const devices& x) {
  m.put("ComPorts", x.com_ports)
      .put("Scsi", x.scsi)
      .put("VirtualPMem", x.virtual_pmem)
      .put("NetworkAdapters", x.network_adapters)
      .put("VideoMonitor", x.video_monitor)
      .put("Keyboard", x.keyboard)
      .put("Mouse", x.mouse)
      .put("HvSocket", x.hv_socket)
      .put("EnhancedModeVideo", x.enhanced_mode_video)
      .put("VirtualSmb", x.virtual_smb)
      .put("Plan9", x.plan9)
      .put("Battery", x.battery)
      .put("VirtualPci", x.virtual_pci);
}

template <class M>
void describe(M& m, const storage_qos& x) {
  m.put("IopsMaximum", x.iops_maximum).put("BandwidthMaximum", x.bandwidth_maximum);
}

template <class M>
void describe(M& m, const guest_connection& x) {
  m.put("UseVsock", x.use_vsock).put("UseConnectedSuspend", x.use_connected_suspend);
}

template <class M>
void describe(M& m, const virtual_machine& x) {
  m.put("StopOnReset", x.stop_on_reset)
      .put("Chipset", x.chipset)
      .put("ComputeTopology", x.compute_topology)
      .put("Devices", x.devices)
      .put("StorageQoS", x.storage_qos)
      .put("GuestConnection", x.guest_connection);
}

template <class M>
void describe(M& m, const compute_system& x) {
  m.put("Owner", x.owner)
      .put("SchemaVersion", x.schema_version)
      .put("HostingSystemId", x.hosting_system_id)
      .put("HostedSystem", x.hosted_system)
      .put("VirtualMachine", x.virtual_machine)
      .put("ShouldTerminateOnLastHandleClosed", x.should_terminate_on_last_handle_closed);
}

template <class M>
void describe(M& m, const layer& x) {
  m.put("Id", x.id).put("Path", x.path).put("PathType", x.path_type).put("Cache", x.cache);
}

// One member list for each request, whichever way its Settings is held.
template <class M, class R>
void describe_modify_setting_request(M& m, const R& x) {
  m.put("ResourcePath", x.resource_path)
      .put("RequestType", x.request_type)
      .put("Settings", x.settings)
      .put("GuestRequest", x.guest_request);
}

template <class M, class R>
void describe_guest_request(M& m, const R& x) {
  m.put("RequestType", x.request_type)
      .put("ResourceType", x.resource_type)
      .put("Settings", x.settings);
}

template <class M>
void describe(M& m, const modify_setting_request& x) {
  describe_modify_setting_request(m, x);
}

template <class M, class S>
void describe(M& m, const modify_setting_request_of<S>& x) {
  describe_modify_setting_request(m, x);
}

template <class M>
void describe(M& m, const guest_request& x) {
  describe_guest_request(m, x);
}

template <class M, class S>
void describe(M& m, const guest_request_of<S>& x) {
  describe_guest_request(m, x);
}

template <class M>
void describe(M& m, const lcow_mapped_virtual_disk& x) {
  m.put("MountPath", x.mount_path)
      .put("Lun", x.lun)
      .put("Controller", x.controller)
      .put("ReadOnly", x.read_only);
}

template <class M>
void describe(M& m, const wcow_mapped_virtual_disk& x) {
  m.put("ContainerPath", x.container_path).put("Lun", x.lun);
}

template <class M>
void describe(M& m, const lcow_mapped_directory& x) {
  m.put("MountPath", x.mount_path)
      .put("Port", x.port)
      .put("ShareName", x.share_name)
      .put("ReadOnly", x.read_only);
}

template <class M>
void describe(M& m, const lcow_mapped_layer& x) {
  m.put("DeviceOffsetInBytes", x.device_offset_in_bytes)
      .put("DeviceSizeInBytes", x.device_size_in_bytes);
}

template <class M>
void describe(M& m, const lcow_mapped_vpmem_device& x) {
  m.put("DeviceNumber", x.device_number)
      .put("MountPath", x.mount_path)
      .put("MappingInfo", x.mapping_info);
}

template <class M>
void describe(M& m, const lcow_mapped_vpci_device& x) {
  m.put("VMBusGUID", x.vmbus_guid);
}

template <class M>
void describe(M& m, const lcow_network_adapter& x) {
  m.put("NamespaceID", x.namespace_id)
      .put("ID", x.id)
      .put("MacAddress", x.mac_address)
      .put("IPAddress", x.ip_address)
      .put("PrefixLength", x.prefix_length)
      .put("GatewayAddress", x.gateway_address)
      .put("DNSSuffix", x.dns_suffix)
      .put("DNSServerList", x.dns_server_list)
      .put("EnableLowMetric", x.enable_low_metric)
      .put("EncapOverhead", x.encap_overhead);
}

template <class M>
void describe(M& m, const network_modify_request& x) {
  m.put(x.rs4 ? "AdapterInstanceId" : "AdapterId", x.adapter_id)
      .put("RequestType", x.request_type)
      .put("Settings", x.settings);
}

template <class M>
void describe(M& m, const combined_layers& x) {
  m.put("ContainerRootPath", x.container_root_path)
      .put("Layers", x.layers)
      .put("ScratchPath", x.scratch_path);
}

template <class M>
void describe(M& m, const processor_limits& x) {
  m.put("Limit", x.limit)
      .put("Weight", x.weight)
      .put("Reservation", x.reservation)
      .put("MaximumFrequencyMHz", x.maximum_frequency_mhz);
}

// Both outputs of every type come from its describe().
#define UVM_SCHEMA_OUTPUTS(T)                                                                      \
  ojson to_json(const T& x) {                                                                      \
    return json_of(x);                                                                             \
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
UVM_SCHEMA_OUTPUTS(virtual_pmem_mapping)
UVM_SCHEMA_OUTPUTS(virtual_pmem_controller)
UVM_SCHEMA_OUTPUTS(network_adapter)
UVM_SCHEMA_OUTPUTS(hv_socket_service_config)
UVM_SCHEMA_OUTPUTS(hv_socket_system_config)
UVM_SCHEMA_OUTPUTS(hv_socket2)
UVM_SCHEMA_OUTPUTS(virtual_smb_share)
UVM_SCHEMA_OUTPUTS(virtual_smb)
UVM_SCHEMA_OUTPUTS(plan9_share)
UVM_SCHEMA_OUTPUTS(plan9)
UVM_SCHEMA_OUTPUTS(devices)
UVM_SCHEMA_OUTPUTS(storage_qos)
UVM_SCHEMA_OUTPUTS(guest_connection)
UVM_SCHEMA_OUTPUTS(virtual_machine)
UVM_SCHEMA_OUTPUTS(compute_system)
UVM_SCHEMA_OUTPUTS(modify_setting_request)
UVM_SCHEMA_OUTPUTS(guest_request)
UVM_SCHEMA_OUTPUTS(lcow_mapped_virtual_disk)
UVM_SCHEMA_OUTPUTS(wcow_mapped_virtual_disk)
UVM_SCHEMA_OUTPUTS(lcow_mapped_directory)
UVM_SCHEMA_OUTPUTS(lcow_mapped_layer)
UVM_SCHEMA_OUTPUTS(lcow_mapped_vpmem_device)
UVM_SCHEMA_OUTPUTS(lcow_mapped_vpci_device)
UVM_SCHEMA_OUTPUTS(lcow_network_adapter)
UVM_SCHEMA_OUTPUTS(network_modify_request)
UVM_SCHEMA_OUTPUTS(combined_layers)
UVM_SCHEMA_OUTPUTS(processor_limits)

UVM_SCHEMA_OUTPUTS(virtual_smb_share_options)
UVM_SCHEMA_OUTPUTS(virtual_pci_function)
UVM_SCHEMA_OUTPUTS(virtual_pci_device)
UVM_SCHEMA_OUTPUTS(layer)

#undef UVM_SCHEMA_OUTPUTS

// The requests written in place (device_requests: SCSI).
template std::string go_text(const modify_setting_request_of<attachment>&);
template std::string go_text(const guest_request_of<lcow_mapped_virtual_disk>&);
template std::string go_text(const guest_request_of<wcow_mapped_virtual_disk>&);

} // namespace uvm::hcs
