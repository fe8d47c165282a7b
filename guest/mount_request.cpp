#include "guest/mount_request.hpp"

#include <limits>

#include "gojson/go_json.hpp"

namespace uvm::guest {

namespace {

using json = nlohmann::json;

const json* find(const json& obj, std::string_view name) {
  return obj.is_object() ? gojson::find_ci(obj, name) : nullptr;
}

error bad(const std::string& type, std::string_view name, const std::string& why) {
  return error{errc::bad_request,
               "invalid " + type + " settings: " + std::string{name} + " " + why};
}

// A uint32 member; absent or null is 0, as Go decodes it.
result<uint32_t> uint_member(const std::string& type, const json& settings, std::string_view name) {
  const auto* v = find(settings, name);
  if (v == nullptr || v->is_null()) {
    return uint32_t{0};
  }
  // Parsed JSON holds non-negative integers as unsigned, built JSON as signed.
  bool fits =
      v->is_number_unsigned() ? v->get<uint64_t>() <= std::numeric_limits<uint32_t>::max()
      : v->is_number_integer()
          ? v->get<int64_t>() >= 0 && v->get<int64_t>() <= std::numeric_limits<uint32_t>::max()
          : false;
  if (!fits) {
    return bad(type, name, "must be an unsigned 32-bit number");
  }
  return static_cast<uint32_t>(v->get<uint64_t>());
}

result<std::string> text_member(const std::string& type, const json& settings,
                                std::string_view name) {
  const auto* v = find(settings, name);
  if (v == nullptr || v->is_null()) {
    return std::string{};
  }
  if (!v->is_string()) {
    return bad(type, name, "must be a string");
  }
  return v->get<std::string>();
}

result<bool> bool_member(const std::string& type, const json& settings, std::string_view name) {
  const auto* v = find(settings, name);
  if (v == nullptr || v->is_null()) {
    return false;
  }
  if (!v->is_boolean()) {
    return bad(type, name, "must be a boolean");
  }
  return v->get<bool>();
}

// The mount path every mounting request needs.
result<std::string> path_member(const std::string& type, const json& settings,
                                std::string_view name) {
  auto p = text_member(type, settings, name);
  if (p && p->empty()) {
    return bad(type, name, "is empty");
  }
  return p;
}

result<mount_target> scsi_disk(const std::string& type, const json& s) {
  auto mount_path = text_member(type, s, "MountPath");
  auto controller = uint_member(type, s, "Controller");
  auto lun = uint_member(type, s, "Lun");
  auto read_only = bool_member(type, s, "ReadOnly");
  for (const error* e : {&mount_path.err(), &controller.err(), &lun.err(), &read_only.err()}) {
    if (*e) {
      return *e;
    }
  }
  if (mount_path->empty()) {
    return mount_target{no_mount{}}; // attached without a guest mount
  }
  return mount_target{scsi_disk_mount{*mount_path, *controller, *lun, *read_only}};
}

// A uint64 member; absent or null is 0.
result<uint64_t> u64_member(const std::string& type, const json& settings, std::string_view name) {
  const auto* v = find(settings, name);
  if (v == nullptr || v->is_null()) {
    return uint64_t{0};
  }
  bool fits = v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0);
  if (!fits) {
    return bad(type, name, "must be an unsigned 64-bit number");
  }
  return v->get<uint64_t>();
}

result<mount_target> vpmem(const std::string& type, const json& s) {
  auto mount_path = path_member(type, s, "MountPath");
  auto device = uint_member(type, s, "DeviceNumber");
  for (const error* e : {&mount_path.err(), &device.err()}) {
    if (*e) {
      return *e;
    }
  }
  vpmem_mount m{*mount_path, *device, std::nullopt};
  const auto* info = find(s, "MappingInfo");
  if (info != nullptr && !info->is_null()) {
    if (!info->is_object()) {
      return bad(type, "MappingInfo", "must be an object");
    }
    auto offset = u64_member(type, *info, "DeviceOffsetInBytes");
    auto size = u64_member(type, *info, "DeviceSizeInBytes");
    for (const error* e : {&offset.err(), &size.err()}) {
      if (*e) {
        return *e;
      }
    }
    // dm-linear counts in 512-byte sectors.
    if (*offset % 512 != 0 || *size % 512 != 0 || *size == 0) {
      return bad(type, "MappingInfo", "must give a non-empty range in whole 512-byte sectors");
    }
    m.mapping = vpmem_mapping{*offset, *size};
  }
  return mount_target{std::move(m)};
}

result<mount_target> plan9(const std::string& type, const json& s, bool add) {
  auto mount_path = path_member(type, s, "MountPath");
  auto share = text_member(type, s, "ShareName");
  auto read_only = bool_member(type, s, "ReadOnly");
  for (const error* e : {&mount_path.err(), &share.err(), &read_only.err()}) {
    if (*e) {
      return *e;
    }
  }
  if (add && share->empty()) {
    return bad(type, "ShareName", "is empty");
  }
  return mount_target{plan9_mount{*mount_path, *share, *read_only}};
}

result<mount_target> overlay(const std::string& type, const json& s, bool add) {
  auto root = path_member(type, s, "ContainerRootPath");
  auto scratch = text_member(type, s, "ScratchPath");
  for (const error* e : {&root.err(), &scratch.err()}) {
    if (*e) {
      return *e;
    }
  }
  overlay_mount m{*root, {}, *scratch};
  const auto* layers = find(s, "Layers");
  if (layers != nullptr && !layers->is_null()) {
    if (!layers->is_array()) {
      return bad(type, "Layers", "must be an array");
    }
    for (const auto& layer : *layers) {
      auto p = path_member(type, layer, "Path");
      if (!p) {
        return p.err();
      }
      m.layers.push_back(std::move(*p));
    }
  }
  if (add && m.layers.empty()) {
    return bad(type, "Layers", "is empty");
  }
  return mount_target{std::move(m)};
}

} // namespace

result<mount_request> parse_mount_request(const std::string& resource_type,
                                          const std::string& request_type, const json& settings) {
  mount_request r;
  r.add = request_type == "Add";
  result<mount_target> target = mount_target{no_mount{}};
  if (resource_type == "MappedVirtualDisk") {
    target = scsi_disk(resource_type, settings);
  } else if (resource_type == "VPMemDevice") {
    target = vpmem(resource_type, settings);
  } else if (resource_type == "MappedDirectory") {
    target = plan9(resource_type, settings, r.add);
  } else if (resource_type == "CombinedLayers") {
    target = overlay(resource_type, settings, r.add);
  }
  if (!target) {
    return target.err();
  }
  r.target = std::move(*target);
  return r;
}

} // namespace uvm::guest
