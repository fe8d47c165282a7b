#include "bridge/mount_table.hpp"

#include "gojson/json_reader.hpp"
#include "gojson/json_view.hpp"

namespace uvm::bridge {

namespace {

hcs::call_result fail(std::string message) {
  return hcs::call_result::failure(hcs::hr::fail, std::move(message));
}

// A string member, or "" when absent or not a string; a view of the
// request's text, or of `decoded` when it has escapes.
std::string_view string_member(const gojson::json_object& obj, std::string_view name,
                               std::string& decoded) {
  const auto* v = obj.find_ci(name);
  if (v == nullptr || !v->is_string()) {
    return {};
  }
  if (auto plain = v->plain_string()) {
    return *plain;
  }
  decoded = v->get_string();
  return decoded;
}

std::string string_member(const gojson::json_object& obj, std::string_view name) {
  std::string decoded;
  auto value = string_member(obj, name, decoded);
  return decoded.empty() ? std::string(value) : std::move(decoded);
}

// What identifies a guest resource: its mount path, or its id for the
// kinds that have no path.
std::string resource_key(std::string_view type, const gojson::json_object& settings) {
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

bool known_type(std::string_view type) {
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
  // Read in place: most requests are answered from a few members, and the
  // settings become a tree only when they are kept or given to the step.
  gojson::json_object req;
  auto parsed = gojson::view_json(guest_request, &req);
  if (!parsed || !parsed->is_object()) {
    return hcs::call_result::failure(hcs::hr::invalid_json, "invalid guest request JSON");
  }
  std::string decoded_type;
  std::string decoded_request_type;
  auto type = string_member(req, "ResourceType", decoded_type);
  auto request_type = string_member(req, "RequestType", decoded_request_type);
  if (request_type.empty()) {
    request_type = "Add";
  }
  if (!known_type(type)) {
    return fail("invalid ResourceType '" + std::string(type) + "'");
  }
  const auto* found = req.find_ci("Settings");
  const auto settings = found != nullptr ? gojson::json_object{*found} : gojson::json_object{};
  auto key = resource_key(type, settings);
  // A disk attached without a mount path asks nothing of the guest.
  if (key.empty() && type == "MappedVirtualDisk") {
    return hcs::call_result::success();
  }
  auto settings_tree = [found] {
    return found != nullptr ? *gojson::read_json(found->text()) : nlohmann::json::object();
  };
  auto full_key = std::string(type) + " " + key;
  auto run_step = [&] {
    return step ? step(std::string(type), std::string(request_type), settings_tree())
                : hcs::call_result::success();
  };
  if (request_type == "Add") {
    if (mounts_.count(full_key) > 0) {
      return fail(full_key + " is already present in the guest");
    }
    if (auto r = run_step(); !r.ok()) {
      return r;
    }
    mounts_[full_key] = settings_tree();
    return hcs::call_result::success();
  }
  if (request_type == "Remove") {
    auto mounted = mounts_.find(full_key);
    if (mounted == mounts_.end()) {
      // The Linux guest ignores the removal of an adapter it does not have
      // (gcs-bridge.md §7.10), which the seed's LCOW removal relies on.
      return type == "Network" ? hcs::call_result::success()
                               : fail(full_key + " is not present in the guest");
    }
    if (auto r = run_step(); !r.ok()) {
      return r;
    }
    mounts_.erase(mounted);
    return hcs::call_result::success();
  }
  return fail("the RequestType \"" + std::string(request_type) + "\" is not supported");
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
