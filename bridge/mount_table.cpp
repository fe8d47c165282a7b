#include "bridge/mount_table.hpp"

#include "gojson/go_json.hpp"
#include "gojson/json_reader.hpp"

namespace uvm::bridge {

namespace {

hcs::call_result fail(std::string message) {
  return hcs::call_result::failure(hcs::hr::fail, std::move(message));
}

std::string string_member(const nlohmann::json& obj, std::string_view name) {
  auto* v = obj.is_object() ? gojson::find_ci(obj, name) : nullptr;
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string{};
}

// What identifies a guest resource: its mount path, or its id for the
// kinds that have no path.
std::string resource_key(const std::string& type, const nlohmann::json& settings) {
  if (type == "MappedVirtualDisk") {
    auto path = string_member(settings, "MountPath");
    return path.empty() ? string_member(settings, "ContainerPath") : path;
  }
  if (type == "VPMemDevice" || type == "MappedDirectory") {
    return string_member(settings, "MountPath");
  }
  if (type == "CombinedLayers") {
    return string_member(settings, "ContainerRootPath");
  }
  if (type == "VPCIDevice") {
    return string_member(settings, "VMBusGUID");
  }
  if (type == "Network") {
    return string_member(settings, "ID") + string_member(settings, "AdapterId");
  }
  return {};
}

bool known_type(const std::string& type) {
  return type == "MappedVirtualDisk" || type == "VPMemDevice" || type == "MappedDirectory" ||
         type == "CombinedLayers" || type == "Network" || type == "VPCIDevice";
}

} // namespace

hcs::call_result mount_table::modify_settings(const std::string& guest_request,
                                              const guest_step& step) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (fail_next_ > 0) {
    --fail_next_;
    return fail("injected guest fault");
  }
  auto parsed = gojson::read_json(guest_request);
  if (!parsed || !parsed->is_object()) {
    return hcs::call_result::failure(hcs::hr::invalid_json, "invalid guest request JSON");
  }
  const auto& req = *parsed;
  auto type = string_member(req, "ResourceType");
  auto request_type = string_member(req, "RequestType");
  if (request_type.empty()) {
    request_type = "Add";
  }
  if (!known_type(type)) {
    return fail("invalid ResourceType '" + type + "'");
  }
  static const nlohmann::json no_settings = nlohmann::json::object();
  auto* found = gojson::find_ci(req, "Settings");
  const auto& settings = found != nullptr ? *found : no_settings;
  auto key = resource_key(type, settings);
  // A disk attached without a mount path asks nothing of the guest.
  if (key.empty() && type == "MappedVirtualDisk") {
    return hcs::call_result::success();
  }
  auto full_key = type + " " + key;
  auto run_step = [&] {
    return step ? step(type, request_type, settings) : hcs::call_result::success();
  };
  if (request_type == "Add") {
    if (mounts_.count(full_key) > 0) {
      return fail(type + " " + key + " is already present in the guest");
    }
    if (auto r = run_step(); !r.ok()) {
      return r;
    }
    mounts_[full_key] = settings;
    return hcs::call_result::success();
  }
  if (request_type == "Remove") {
    auto mounted = mounts_.find(full_key);
    if (mounted == mounts_.end()) {
      // The Linux guest ignores the removal of an adapter it does not have
      // (gcs-bridge.md §7.10), which the seed's LCOW removal relies on.
      return type == "Network" ? hcs::call_result::success()
                               : fail(type + " " + key + " is not present in the guest");
    }
    if (auto r = run_step(); !r.ok()) {
      return r;
    }
    mounts_.erase(mounted);
    return hcs::call_result::success();
  }
  return fail("the RequestType \"" + request_type + "\" is not supported");
}

nlohmann::json mount_table::mounts() const {
  std::lock_guard<std::mutex> lock{mutex_};
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, settings] : mounts_) {
    out[key] = settings;
  }
  return out;
}

} // namespace uvm::bridge
