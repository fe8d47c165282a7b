#include "hcs/device_requests.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "gojson/go_json.hpp"
#include "gojson/json_reader.hpp"

namespace uvm::hcs {

namespace {

template <class T>
raw_json raw(const T& settings) {
  return {go_text(settings)};
}

std::string host_part(const std::string& path, const char* type, raw_json settings = {}) {
  return go_text(modify_setting_request{path, type, std::move(settings), {}});
}

std::string guest_part(const char* resource, const char* type, raw_json settings) {
  return go_text(guest_request{type, resource, std::move(settings)});
}

// A request with a host part; `guest` may be absent.
device_request with_host(const std::string& path, const char* type, raw_json settings,
                         std::optional<std::string> guest = std::nullopt) {
  bool adds = !path.empty() && std::string_view(type) == request_type::add;
  return {host_part(path, type, std::move(settings)), std::move(guest), adds};
}

device_request guest_only(std::string guest) {
  return {std::nullopt, std::move(guest), false};
}

raw_json net_mod(const std::string& nic_id, const char* type, bool rs4, ojson settings = nullptr) {
  return raw(network_modify_request{nic_id, type, std::move(settings), rs4});
}

raw_json adapter_settings(const network_endpoint& endpoint) {
  return raw(network_adapter{endpoint.id, endpoint.mac_address});
}

std::string packed_guest(const vpmem_packed_layer& layer, const char* type) {
  lcow_mapped_vpmem_device settings{layer.device_number, layer.uvm_path,
                                    lcow_mapped_layer{layer.offset, layer.size_bytes}};
  return guest_part(resource_type::vpmem_device, type, raw(settings));
}

std::string without_pipe_prefix(const std::string& path) {
  return is_pipe(path) ? path.substr(std::char_traits<char>::length(pipe_prefix)) : path;
}

} // namespace

std::string combined_request(const device_request& request) {
  std::string host = request.host.value_or("{}");
  if (!request.guest) {
    return host;
  }
  // GuestRequest is the last member of a ModifySettingRequest.
  host.pop_back();
  if (host.size() > 1) {
    host += ',';
  }
  host += "\"GuestRequest\":";
  host += *request.guest;
  host += '}';
  return host;
}

std::string host_undo(const std::string& host_add) {
  auto request = gojson::read_ordered_json(host_add);
  if (!request || !request->is_object()) {
    throw std::invalid_argument("host_undo: the host part is not a JSON object");
  }
  (*request)["RequestType"] = request_type::remove;
  return gojson::go_dump(*request);
}

// SCSI requests come with every hotplug: each part is written at once,
// its settings in place.
device_request scsi_add(guest_os os, const scsi_disk& disk) {
  attachment settings;
  settings.type = disk.type;
  settings.path = disk.host_path;
  settings.read_only = disk.read_only;
  scsi_path_buffer buffer;
  auto path = scsi_attachment_path(disk.controller, disk.lun, buffer);
  device_request out{
      go_text(modify_setting_request_of<attachment>{path, request_type::add, {&settings}, {}}),
      std::nullopt, true};
  if (disk.uvm_path.empty()) {
    return out;
  }
  if (os == guest_os::lcow) {
    lcow_mapped_virtual_disk guest{disk.uvm_path, static_cast<uint8_t>(disk.lun),
                                   static_cast<uint8_t>(disk.controller), disk.read_only};
    out.guest = go_text(guest_request_of<lcow_mapped_virtual_disk>{
        request_type::add, resource_type::mapped_virtual_disk, {&guest}});
  } else {
    // WCOW does not send the read-only flag to the guest.
    wcow_mapped_virtual_disk guest{disk.uvm_path, static_cast<int32_t>(disk.lun)};
    out.guest = go_text(guest_request_of<wcow_mapped_virtual_disk>{
        request_type::add, resource_type::mapped_virtual_disk, {&guest}});
  }
  return out;
}

device_request scsi_remove(guest_os os, const scsi_disk& disk) {
  device_request out{
      go_text(modify_setting_request_of<attachment>{
          scsi_attachment_path(disk.controller, disk.lun), request_type::remove, {}, {}}),
      std::nullopt, false};
  if (os == guest_os::wcow && !disk.uvm_path.empty()) {
    wcow_mapped_virtual_disk guest{disk.uvm_path, static_cast<int32_t>(disk.lun)};
    out.guest = go_text(guest_request_of<wcow_mapped_virtual_disk>{
        request_type::remove, resource_type::mapped_virtual_disk, {&guest}});
  } else {
    // LCOW always tells the guest, so it ejects the device before the LUN
    // can be reused.
    lcow_mapped_virtual_disk guest{disk.uvm_path, static_cast<uint8_t>(disk.lun),
                                   static_cast<uint8_t>(disk.controller), false};
    out.guest = go_text(guest_request_of<lcow_mapped_virtual_disk>{
        request_type::remove, resource_type::mapped_virtual_disk, {&guest}});
  }
  return out;
}

device_request vpmem_add(uint32_t device_number, const std::string& host_path,
                         const std::string& uvm_path) {
  // Hot-added layers are always announced as Vhd1.
  virtual_pmem_device settings{host_path, true, "Vhd1"};
  return with_host(
      vpmem_device_path(device_number), request_type::add, raw(settings),
      guest_part(resource_type::vpmem_device, request_type::add,
                 raw(lcow_mapped_vpmem_device{device_number, uvm_path, std::nullopt})));
}

device_request vpmem_remove(uint32_t device_number, const std::string& uvm_path) {
  return with_host(
      vpmem_device_path(device_number), request_type::remove, {},
      guest_part(resource_type::vpmem_device, request_type::remove,
                 raw(lcow_mapped_vpmem_device{device_number, uvm_path, std::nullopt})));
}

device_request vpmem_map(const vpmem_packed_layer& layer, bool new_device) {
  auto guest = packed_guest(layer, request_type::add);
  if (new_device) {
    virtual_pmem_device settings{layer.host_path, true, "Vhd1"};
    return with_host(vpmem_device_path(layer.device_number), request_type::add, raw(settings),
                     std::move(guest));
  }
  virtual_pmem_mapping settings{layer.host_path, "Vhd1"};
  return with_host(vpmem_mapping_path(layer.device_number, layer.offset), request_type::add,
                   raw(settings), std::move(guest));
}

device_request vpmem_unmap(const vpmem_packed_layer& layer, bool last_on_device) {
  auto path = last_on_device ? vpmem_device_path(layer.device_number)
                             : vpmem_mapping_path(layer.device_number, layer.offset);
  return with_host(path, request_type::remove, {}, packed_guest(layer, request_type::remove));
}

device_request plan9_add(const plan9_mount& mount) {
  plan9_share settings;
  settings.name = mount.name;
  settings.access_name = mount.name;
  settings.path = mount.host_path;
  settings.port = plan9_port;
  settings.flags = mount.flags;
  settings.allowed_files = mount.allowed_files;
  return with_host(plan9_shares_path, request_type::add, raw(settings),
                   guest_part(resource_type::mapped_directory, request_type::add,
                              raw(lcow_mapped_directory{mount.uvm_path, plan9_port, mount.name,
                                                        mount.read_only})));
}

device_request plan9_remove(const std::string& name, const std::string& uvm_path) {
  plan9_share settings;
  settings.name = name;
  settings.access_name = name;
  settings.port = plan9_port;
  return with_host(plan9_shares_path, request_type::remove, raw(settings),
                   guest_part(resource_type::mapped_directory, request_type::remove,
                              raw(lcow_mapped_directory{uvm_path, plan9_port, name, false})));
}

std::string describe_plan9_remove(const std::string& name, const std::string& uvm_path) {
  return "&{ResourcePath:" + std::string{plan9_shares_path} +
         " RequestType:Remove Settings:{Name:" + name + " AccessName:" + name +
         " Path: Port:" + std::to_string(plan9_port) +
         " Flags:0 ReadOnly:false UseShareRootIdentity:false AllowedFiles:[]} "
         "GuestRequest:{ResourceType:MappedDirectory RequestType:Remove Settings:{MountPath:" +
         uvm_path + " Port:" + std::to_string(plan9_port) + " ShareName:" + name +
         " ReadOnly:false}}}";
}

device_request vsmb_add(const virtual_smb_share& share) {
  return with_host(vsmb_shares_path, request_type::add, raw(share));
}

device_request vsmb_update(const virtual_smb_share& share) {
  return with_host(vsmb_shares_path, request_type::update, raw(share));
}

device_request vsmb_remove(const std::string& name) {
  virtual_smb_share settings;
  settings.name = name;
  return with_host(vsmb_shares_path, request_type::remove, raw(settings));
}

std::string describe_vsmb_remove(const std::string& name) {
  return "&{ResourcePath:" + std::string{vsmb_shares_path} +
         " RequestType:Remove Settings:{Name:" + name +
         " Path: AllowedFiles:[] Options:<nil>} GuestRequest:<nil>}";
}

device_request pipe_add(const std::string& host_pipe) {
  return with_host(mapped_pipe_path(host_pipe), request_type::add, {});
}

device_request pipe_remove(const std::string& host_pipe) {
  return with_host(mapped_pipe_path(host_pipe), request_type::remove, {});
}

bool is_pipe(const std::string& path) {
  return path.rfind(pipe_prefix, 0) == 0;
}

pipe_mapping container_pipe_mapping(bool in_uvm, const std::string& source,
                                    const std::string& destination) {
  std::string src =
      in_uvm ? std::string{vsmb_share_prefix} + "IPC$\\" + without_pipe_prefix(source) : source;
  return {std::move(src), without_pipe_prefix(destination)};
}

device_request vpci_add(const std::string& device_id, const virtual_pci_device& device) {
  return with_host(virtual_pci_path(device_id), request_type::add, raw(device),
                   guest_part(resource_type::vpci_device, request_type::add,
                              raw(lcow_mapped_vpci_device{device_id})));
}

device_request vpci_remove(const std::string& device_id) {
  return with_host(virtual_pci_path(device_id), request_type::remove, {});
}

device_request combine_layers_lcow(const std::vector<std::string>& layer_paths,
                                   const std::string& scratch_path,
                                   const std::string& rootfs_path) {
  combined_layers settings;
  settings.container_root_path = rootfs_path;
  for (const auto& path : layer_paths) {
    layer l;
    l.path = path;
    settings.layers.push_back(std::move(l));
  }
  settings.scratch_path = scratch_path;
  return guest_only(guest_part(resource_type::combined_layers, request_type::add, raw(settings)));
}

device_request combine_layers_wcow(const std::vector<layer>& layers,
                                   const std::string& container_root_path) {
  combined_layers settings{container_root_path, layers, ""};
  return guest_only(guest_part(resource_type::combined_layers, request_type::add, raw(settings)));
}

device_request remove_combined_layers(const std::string& rootfs_path) {
  combined_layers settings{rootfs_path, {}, ""};
  return guest_only(
      guest_part(resource_type::combined_layers, request_type::remove, raw(settings)));
}

device_request network_adapter_add_lcow(const std::string& nic_id, const network_endpoint& endpoint,
                                        bool namespace_supported) {
  auto out = with_host(network_adapter_path(nic_id), request_type::add, adapter_settings(endpoint));
  if (namespace_supported) {
    lcow_network_adapter settings{
        endpoint.namespace_id,      nic_id,
        endpoint.mac_address,       endpoint.ip_address.empty() ? "<nil>" : endpoint.ip_address,
        endpoint.prefix_length,     endpoint.gateway_address,
        endpoint.dns_suffix,        endpoint.dns_server_list,
        endpoint.enable_low_metric, endpoint.encap_overhead};
    out.guest = guest_part(resource_type::network, request_type::add, raw(settings));
  }
  return out;
}

device_request network_adapter_remove_lcow(const std::string& nic_id,
                                           const network_endpoint& endpoint,
                                           bool namespace_supported) {
  auto out =
      with_host(network_adapter_path(nic_id), request_type::remove, adapter_settings(endpoint));
  if (namespace_supported) {
    lcow_network_adapter settings;
    settings.namespace_id = endpoint.namespace_id;
    settings.id = endpoint.id;
    out.guest = guest_part(resource_type::network, request_type::remove, raw(settings));
  }
  return out;
}

ojson hns_endpoint_json(const network_endpoint& e) {
  ojson out = ojson::object();
  auto put = [&out](const char* name, const std::string& value) {
    if (!value.empty()) {
      out[name] = value;
    }
  };
  put("ID", e.id);
  put("MacAddress", e.mac_address);
  put("IPAddress", e.ip_address);
  put("DNSSuffix", e.dns_suffix);
  put("DNSServerList", e.dns_server_list);
  put("GatewayAddress", e.gateway_address);
  if (e.prefix_length != 0) {
    out["PrefixLength"] = e.prefix_length;
  }
  if (e.enable_low_metric) {
    out["EnableLowMetric"] = true;
  }
  if (!e.namespace_id.empty()) {
    out["Namespace"] = ojson{{"ID", e.namespace_id}};
  }
  if (e.encap_overhead != 0) {
    out["EncapOverhead"] = e.encap_overhead;
  }
  return out;
}

ojson hns_namespace_json(const std::string& id) {
  return ojson{{"ID", id}, {"SchemaVersion", ojson{{"Major", 2}, {"Minor", 0}}}};
}

device_request network_adapter_preadd_wcow(const std::string& nic_id, const ojson& hns_endpoint,
                                           bool rs4) {
  return guest_only(guest_part(resource_type::network, request_type::add,
                               net_mod(nic_id, request_type::pre_add, rs4, hns_endpoint)));
}

device_request network_adapter_add_wcow(const std::string& nic_id, const network_endpoint& endpoint,
                                        bool rs4) {
  return with_host(network_adapter_path(nic_id), request_type::add, adapter_settings(endpoint),
                   guest_part(resource_type::network, request_type::add,
                              net_mod(nic_id, request_type::add, rs4)));
}

device_request network_adapter_remove_wcow(const std::string& nic_id,
                                           const network_endpoint& endpoint, bool rs4) {
  return with_host(network_adapter_path(nic_id), request_type::remove, adapter_settings(endpoint),
                   host_part("", request_type::remove, net_mod(nic_id, request_type::remove, rs4)));
}

device_request network_namespace_wcow(const std::string& type, const ojson& hns_namespace) {
  return guest_only(go_text(
      guest_request{type, resource_type::network_namespace, {gojson::go_dump(hns_namespace)}}));
}

namespace {

constexpr const char* memory_path = "VirtualMachine/ComputeTopology/Memory/SizeInMB";
constexpr const char* processor_limits_path = "VirtualMachine/ComputeTopology/Processor/Limits";
constexpr const char* processor_path = "VirtualMachine/ComputeTopology/Processor";

} // namespace

memory_size normalize_memory(uint64_t bytes) {
  const uint64_t requested = bytes / (1024 * 1024);
  memory_size out;
  out.size_in_mb = (requested + 1) & ~uint64_t{1};
  if (out.size_in_mb != requested) {
    out.warning = "Changing user requested MemorySizeInMB to align to 2MB (requested " +
                  std::to_string(requested) + ", assigned " + std::to_string(out.size_in_mb) + ")";
  }
  return out;
}

device_request memory_update(uint64_t size_in_mb) {
  return {host_part(memory_path, "", raw_json{std::to_string(size_in_mb)}), std::nullopt, false};
}

device_request processor_limits_update(const processor_limits& limits) {
  return {host_part(processor_limits_path, "", raw(limits)), std::nullopt, false};
}

device_request processor_count_update(uint32_t count) {
  processor2 processor;
  processor.count = static_cast<int32_t>(std::min<uint32_t>(count, INT32_MAX));
  return {host_part(processor_path, "", raw(processor)), std::nullopt, false};
}

} // namespace uvm::hcs
