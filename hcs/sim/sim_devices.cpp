#include "hcs/sim/sim_devices.hpp"

#include <array>
#include <charconv>
#include <string_view>

#include "hcs/backend.hpp"
#include "hcs/hcs_json.hpp"
#include "hcs/sim/sim_settings.hpp"
#include "hcs/sim/sim_topology.hpp"

namespace uvm::hcs::sim {

namespace {

constexpr uint32_t scsi_luns_per_controller = 64;
constexpr std::string_view devices_prefix = "VirtualMachine/Devices/";

enum class request_type { add, remove, update };

const char* to_string(request_type type) {
  switch (type) {
  case request_type::add:
    return "Add";
  case request_type::remove:
    return "Remove";
  case request_type::update:
    return "Update";
  }
  return "?";
}

request_type parse_request_type(std::string_view text) {
  if (text.empty()) {
    reject(hr::invalid_arg, "the request has no RequestType");
  }
  for (auto type : {request_type::add, request_type::remove, request_type::update}) {
    if (equal_ci(text, to_string(type))) {
      return type;
    }
  }
  reject(hr::invalid_arg,
         "RequestType \"" + std::string(text) + "\" is not Add, Remove or Update for the host");
}

[[noreturn]] void unsupported(request_type type, const std::string& what) {
  reject(hr::invalid_arg, std::string(to_string(type)) + " is not supported for " + what);
}

gojson::json_object need_settings(const gojson::json_view* settings, request_type type,
                                  const std::string& what) {
  if (settings == nullptr) {
    reject(hr::invalid_arg, std::string(to_string(type)) + " of " + what + " needs Settings");
  }
  if (!settings->is_object()) {
    reject(hr::invalid_json, "member Settings is not an object");
  }
  return gojson::json_object{*settings};
}

// The parts of a resource path between slashes: how many, and the first
// few (no path the simulator knows has more).
struct path_parts {
  static constexpr std::size_t kept = 5;
  std::array<std::string_view, kept> part{};
  std::size_t count = 0;
  std::size_t size() const { return count; }
  std::string_view operator[](std::size_t i) const { return part[i]; }
};

path_parts split(std::string_view text) {
  path_parts parts;
  std::size_t start = 0;
  while (true) {
    auto slash = text.find('/', start);
    if (parts.count < path_parts::kept) {
      parts.part[parts.count] = text.substr(start, slash - start);
    }
    ++parts.count;
    if (slash == std::string_view::npos) {
      return parts;
    }
    start = slash + 1;
  }
}

// The request is read in place: the settings refer to its text.
struct request {
  request_type type;
  const gojson::json_view* settings;
};

void modify_scsi(sim_devices& devices, const std::string& controller, std::string_view lun_text,
                 const request& req) {
  auto slots = devices.scsi.find(controller);
  if (slots == devices.scsi.end()) {
    reject(hr::invalid_arg, "SCSI controller " + controller + " is not in the document");
  }
  auto lun = parse_index(lun_text);
  if (!lun) {
    reject(hr::invalid_arg, "SCSI LUN \"" + std::string(lun_text) + "\" is not a number");
  }
  if (*lun >= scsi_luns_per_controller) {
    reject(hr::invalid_arg, "SCSI LUN " + std::to_string(*lun) + " is out of range (0-63)");
  }
  // Named in errors only: a removal that succeeds never builds it.
  auto where = [&] { return "SCSI " + controller + ":" + std::to_string(*lun); };
  auto& luns = slots->second;
  auto current = luns.find(*lun);
  switch (req.type) {
  case request_type::add: {
    const auto what = where();
    if (current != luns.end()) {
      reject(hr::invalid_arg, what + " is already attached (" + current->second.path + ")");
    }
    luns.emplace(*lun, parse_attachment(need_settings(req.settings, req.type, what), what));
    return;
  }
  case request_type::remove:
    if (current == luns.end()) {
      reject(hr::element_not_found, "nothing is attached at " + where());
    }
    luns.erase(current);
    return;
  default:
    unsupported(req.type, where());
  }
}

void modify_vpmem(sim_devices& devices, std::string_view number_text, const request& req) {
  auto number = parse_index(number_text);
  if (!number) {
    reject(hr::invalid_arg,
           "VPMEM device number \"" + std::string(number_text) + "\" is not a number");
  }
  auto where = "VPMEM device " + std::to_string(*number);
  if (*number >= devices.vpmem_maximum_count) {
    reject(hr::invalid_arg, where + " is out of range (MaximumCount " +
                                std::to_string(devices.vpmem_maximum_count) + ")");
  }
  auto current = devices.vpmem.find(*number);
  switch (req.type) {
  case request_type::add:
    if (current != devices.vpmem.end()) {
      reject(hr::invalid_arg, where + " is already attached (" + current->second.host_path + ")");
    }
    devices.vpmem.emplace(*number,
                          parse_vpmem_device(need_settings(req.settings, req.type, where), where));
    return;
  case request_type::remove:
    if (current == devices.vpmem.end()) {
      reject(hr::element_not_found, "nothing is attached at " + where);
    }
    // hcsshim removes a packed device with its last layer only.
    if (auto layers = current->second.mappings.size() + (current->second.base_mapped ? 1 : 0);
        layers > 1) {
      reject(hr::invalid_arg, where + " still has " + std::to_string(layers) + " mapped layers");
    }
    devices.vpmem.erase(current);
    return;
  default:
    unsupported(req.type, where);
  }
}

// A layer packed into a device at an offset (later hcsshim's multi-mapping):
// the device must exist, the offset must be page-aligned inside
// MaximumSizeBytes and free. Offset 0 is the device's own layer until it is
// removed.
void modify_vpmem_mapping(sim_devices& devices, std::string_view number_text,
                          std::string_view offset_text, const request& req) {
  constexpr uint64_t page = 0x1000;
  auto number = parse_index(number_text);
  uint64_t offset = 0;
  auto [end, ec] =
      std::from_chars(offset_text.data(), offset_text.data() + offset_text.size(), offset);
  if (!number || ec != std::errc{} || end != offset_text.data() + offset_text.size() ||
      offset_text.empty()) {
    reject(hr::invalid_arg, "VPMEM mapping \"" + std::string(number_text) + "/Mappings/" +
                                std::string(offset_text) + "\" is not a device and offset");
  }
  auto where = "VPMEM device " + std::to_string(*number) + " mapping at " + std::to_string(offset);
  auto device = devices.vpmem.find(*number);
  if (device == devices.vpmem.end()) {
    reject(hr::invalid_arg, where + ": the device is not attached");
  }
  if (offset % page != 0 || offset >= devices.vpmem_maximum_size_bytes) {
    reject(hr::invalid_arg, where + ": the offset is not page-aligned inside MaximumSizeBytes " +
                                std::to_string(devices.vpmem_maximum_size_bytes));
  }
  auto& d = device->second;
  bool base = offset == 0 && d.base_mapped;
  auto current = d.mappings.find(offset);
  switch (req.type) {
  case request_type::add: {
    if (base || current != d.mappings.end()) {
      reject(hr::invalid_arg, where + " is already mapped (" +
                                  (base ? d.host_path : current->second.host_path) + ")");
    }
    auto parsed = parse_vpmem_device(need_settings(req.settings, req.type, where), where);
    d.mappings.emplace(offset, sim_vpmem_mapping{parsed.host_path, parsed.image_format});
    return;
  }
  case request_type::remove:
    if (base) {
      d.base_mapped = false;
    } else if (current != d.mappings.end()) {
      d.mappings.erase(current);
    } else {
      reject(hr::element_not_found, "nothing is mapped at " + where);
    }
    return;
  default:
    unsupported(req.type, where);
  }
}

void modify_vsmb(sim_devices& devices, const request& req) {
  const auto settings = need_settings(req.settings, req.type, "VSMB shares");
  if (req.type == request_type::remove) {
    auto name = share_name(settings, "VSMB");
    if (devices.vsmb.erase(name) == 0) {
      reject(hr::element_not_found, "VSMB share " + name + " does not exist");
    }
    return;
  }
  auto [name, share] = parse_vsmb_share(settings);
  auto current = devices.vsmb.find(name);
  if (req.type == request_type::add) {
    if (current != devices.vsmb.end()) {
      reject(hr::invalid_arg, "VSMB share " + name + " already exists");
    }
    devices.vsmb.emplace(name, std::move(share));
    return;
  }
  if (current == devices.vsmb.end()) {
    reject(hr::element_not_found, "VSMB share " + name + " does not exist");
  }
  current->second = std::move(share);
}

void modify_plan9(sim_devices& devices, const request& req) {
  const auto settings = need_settings(req.settings, req.type, "Plan9 shares");
  switch (req.type) {
  case request_type::add: {
    auto [name, share] = parse_plan9_share(settings);
    if (!devices.plan9.emplace(name, std::move(share)).second) {
      reject(hr::invalid_arg, "Plan9 share " + name + " already exists");
    }
    return;
  }
  case request_type::remove: {
    auto name = share_name(settings, "Plan9");
    if (devices.plan9.erase(name) == 0) {
      reject(hr::element_not_found, "Plan9 share " + name + " does not exist");
    }
    return;
  }
  default:
    unsupported(req.type, "Plan9 shares");
  }
}

void modify_pipe(sim_devices& devices, const std::string& pipe, const request& req) {
  auto where = "mapped pipe " + pipe;
  switch (req.type) {
  case request_type::add:
    if (!devices.mapped_pipes.insert(pipe).second) {
      reject(hr::invalid_arg, where + " is already mapped");
    }
    return;
  case request_type::remove:
    if (devices.mapped_pipes.erase(pipe) == 0) {
      reject(hr::element_not_found, where + " is not mapped");
    }
    return;
  default:
    unsupported(req.type, where);
  }
}

// Network adapters and VPCI devices: keyed by GUID, settings optional.
template <class Table, class Parse>
void modify_keyed(Table& table, const std::string& key, const std::string& where,
                  const request& req, Parse parse) {
  switch (req.type) {
  case request_type::add: {
    if (table.count(key) != 0) {
      reject(hr::invalid_arg, where + " is already added");
    }
    table.emplace(key, parse(req.settings != nullptr ? need_settings(req.settings, req.type, where)
                                                     : gojson::json_object{}));
    return;
  }
  case request_type::remove:
    if (table.erase(key) == 0) {
      reject(hr::element_not_found, where + " is not added");
    }
    return;
  default:
    unsupported(req.type, where);
  }
}

[[noreturn]] void unknown_path(std::string_view path) {
  reject(hr::invalid_arg, "unknown ResourcePath \"" + std::string(path) + "\"");
}

} // namespace

void apply_modify(sim_system& system, const std::string& text) {
  const auto body = parse_object_view(text, "request");
  std::string decoded_path;
  const auto path = string_member(body, "ResourcePath", decoded_path);
  if (path.empty()) {
    if (find_member(body, "GuestRequest") == nullptr) {
      reject(hr::invalid_arg, "the request has neither ResourcePath nor GuestRequest");
    }
    return;
  }
  if (path.size() > topology_prefix.size() &&
      equal_ci(path.substr(0, topology_prefix.size()), topology_prefix)) {
    modify_topology(system, path.substr(topology_prefix.size()), body);
    return;
  }
  auto& devices = system.devices;
  std::string decoded_type;
  const request req{parse_request_type(string_member(body, "RequestType", decoded_type)),
                    find_member(body, "Settings")};
  if (path.size() <= devices_prefix.size() ||
      !equal_ci(path.substr(0, devices_prefix.size()), devices_prefix)) {
    unknown_path(path);
  }
  const auto rest = path.substr(devices_prefix.size());
  const auto parts = split(rest);
  const auto device = parts[0];
  const auto tail = rest.substr(device.size() + (parts.size() > 1 ? 1 : 0));
  if (equal_ci(device, "Scsi") && parts.size() == 4 && equal_ci(parts[2], "Attachments")) {
    modify_scsi(devices, std::string(parts[1]), parts[3], req);
  } else if (equal_ci(device, "VirtualPMem") && parts.size() == 3 &&
             equal_ci(parts[1], "Devices")) {
    modify_vpmem(devices, parts[2], req);
  } else if (equal_ci(device, "VirtualPMem") && parts.size() == 5 &&
             equal_ci(parts[1], "Devices") && equal_ci(parts[3], "Mappings")) {
    modify_vpmem_mapping(devices, parts[2], parts[4], req);
  } else if (equal_ci(device, "VirtualSmb") && parts.size() == 2 && equal_ci(parts[1], "Shares")) {
    modify_vsmb(devices, req);
  } else if (equal_ci(device, "Plan9") && parts.size() == 2 && equal_ci(parts[1], "Shares")) {
    modify_plan9(devices, req);
  } else if (equal_ci(device, "MappedPipes") && !tail.empty()) {
    modify_pipe(devices, std::string(tail), req); // the host pipe path, verbatim
  } else if (equal_ci(device, "NetworkAdapters") && parts.size() == 2 && !tail.empty()) {
    modify_keyed(devices.network_adapters, std::string(tail),
                 "network adapter " + std::string(tail), req,
                 parse_network_adapter<gojson::json_object>);
  } else if (equal_ci(device, "VirtualPci") && parts.size() == 2 && !tail.empty()) {
    modify_keyed(devices.vpci, std::string(tail), "VPCI device " + std::string(tail), req,
                 parse_vpci_device<gojson::json_object>);
  } else {
    unknown_path(path);
  }
}

} // namespace uvm::hcs::sim
