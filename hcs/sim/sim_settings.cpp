#include "hcs/sim/sim_settings.hpp"

#include <array>

#include "hcs/backend.hpp"
#include "hcs/hcs_json.hpp"

namespace uvm::hcs::sim {

namespace {

// VirtualSmbShareOptions members (hcs-schema.md §6).
constexpr std::array<const char*, 17> vsmb_option_names = {
    "ReadOnly",
    "ShareRead",
    "CacheIo",
    "NoOplocks",
    "TakeBackupPrivilege",
    "UseShareRootIdentity",
    "NoDirectmap",
    "NoLocks",
    "NoDirnotify",
    "VmSharedMemory",
    "RestrictFileAccess",
    "ForceLevelIIOplocks",
    "ReparseBaseLayer",
    "PseudoOplocks",
    "NonCacheIo",
    "PseudoDirnotify",
    "SingleFileMapping",
};

template <class Obj>
std::string required_string(const Obj& settings, const char* member, const std::string& where) {
  auto value = string_member(settings, member);
  if (value.empty()) {
    reject(hr::invalid_arg, where + " has no " + member);
  }
  return value;
}

} // namespace

template <class Obj>
sim_scsi_attachment parse_attachment(const Obj& settings, const std::string& where) {
  sim_scsi_attachment attachment;
  attachment.type = required_string(settings, "Type", where);
  attachment.path = required_string(settings, "Path", where);
  attachment.read_only = bool_member(settings, "ReadOnly");
  if (attachment.type != "VirtualDisk" && attachment.type != "PassThru") {
    reject(hr::invalid_arg,
           where + " has Type \"" + attachment.type + "\" (want VirtualDisk or PassThru)");
  }
  return attachment;
}

template <class Obj>
sim_vpmem_device parse_vpmem_device(const Obj& settings, const std::string& where) {
  sim_vpmem_device device;
  device.host_path = required_string(settings, "HostPath", where);
  device.read_only = bool_member(settings, "ReadOnly");
  device.image_format = string_member(settings, "ImageFormat");
  if (!device.image_format.empty() && device.image_format != "Vhd1" &&
      device.image_format != "Vhdx") {
    reject(hr::invalid_arg,
           where + " has ImageFormat \"" + device.image_format + "\" (want Vhd1 or Vhdx)");
  }
  return device;
}

template <class Obj>
std::pair<std::string, sim_plan9_share> parse_plan9_share(const Obj& settings) {
  auto name = share_name(settings, "Plan9");
  sim_plan9_share share;
  share.path = required_string(settings, "Path", "Plan9 share " + name);
  share.access_name = string_member(settings, "AccessName");
  share.port = int_member(settings, "Port");
  share.flags = int_member(settings, "Flags");
  share.allowed_files = strings_member(settings, "AllowedFiles");
  return {std::move(name), std::move(share)};
}

template <class Obj>
std::pair<std::string, sim_vsmb_share> parse_vsmb_share(const Obj& settings) {
  auto name = share_name(settings, "VSMB");
  sim_vsmb_share share;
  share.path = required_string(settings, "Path", "VSMB share " + name);
  share.allowed_files = strings_member(settings, "AllowedFiles");
  if (auto options = object_member(settings, "Options")) {
    for (const char* option : vsmb_option_names) {
      if (bool_member(*options, option)) {
        share.options.insert(option);
      }
    }
  }
  return {std::move(name), std::move(share)};
}

template <class Obj>
std::string share_name(const Obj& settings, const char* kind) {
  return required_string(settings, "Name", std::string(kind) + " share");
}

template <class Obj>
sim_network_adapter parse_network_adapter(const Obj& settings) {
  return {string_member(settings, "EndpointId"), string_member(settings, "MacAddress")};
}

template <class Obj>
std::vector<sim_vpci_function> parse_vpci_device(const Obj& settings) {
  std::vector<sim_vpci_function> functions;
  for_each_element(array_member(settings, "Functions"), [&](const auto& item) {
    if (!item.is_object()) {
      reject(hr::invalid_json, "member Functions is not an array of objects");
    }
    const auto& function = as_object(item);
    functions.push_back(
        {string_member(function, "DeviceInstancePath"), uint_member(function, "VirtualFunction")});
  });
  return functions;
}

// The document's settings are a tree, a request's are read in place.
template sim_scsi_attachment parse_attachment(const nlohmann::json&, const std::string&);
template sim_vpmem_device parse_vpmem_device(const nlohmann::json&, const std::string&);
template std::pair<std::string, sim_plan9_share> parse_plan9_share(const nlohmann::json&);
template std::pair<std::string, sim_vsmb_share> parse_vsmb_share(const nlohmann::json&);
template std::string share_name(const nlohmann::json&, const char*);
template sim_network_adapter parse_network_adapter(const nlohmann::json&);
template std::vector<sim_vpci_function> parse_vpci_device(const nlohmann::json&);
template sim_scsi_attachment parse_attachment(const gojson::json_object&, const std::string&);
template sim_vpmem_device parse_vpmem_device(const gojson::json_object&, const std::string&);
template std::pair<std::string, sim_plan9_share> parse_plan9_share(const gojson::json_object&);
template std::pair<std::string, sim_vsmb_share> parse_vsmb_share(const gojson::json_object&);
template std::string share_name(const gojson::json_object&, const char*);
template sim_network_adapter parse_network_adapter(const gojson::json_object&);
template std::vector<sim_vpci_function> parse_vpci_device(const gojson::json_object&);

} // namespace uvm::hcs::sim
