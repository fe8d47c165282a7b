#include "actors/core/scsi_slot_table.hpp"

#include <algorithm>

namespace uvm {

namespace {

error not_in_state(const char* what, const std::string& host_path) {
  return error{errc::internal, std::string{"no SCSI "} + what + " in flight for " + host_path};
}

} // namespace

const char* to_string(scsi_state state) {
  switch (state) {
  case scsi_state::attaching:
    return "attaching";
  case scsi_state::attached:
    return "attached";
  case scsi_state::detaching:
    return "detaching";
  }
  return "unknown";
}

scsi_slot_table::scsi_slot_table(uint32_t controllers, std::optional<scsi_attachment> scratch)
    : controllers_(std::min(controllers, max_scsi_controllers)) {
  if (scratch) {
    scratch->slot = scsi_slot{};
    scratch->refs = 1;
    scratch->waiters = 0;
    scratch->state = scsi_state::attached;
    used_[0][0] = true;
    by_path_.emplace(scratch->host_path, std::move(*scratch));
  }
}

result<scsi_add_decision> scsi_slot_table::begin_add(const std::string& host_path,
                                                     const std::string& uvm_path, bool read_only,
                                                     const std::string& type) {
  if (controllers_ == 0) {
    return error{errc::no_scsi_controllers};
  }
  if (auto it = by_path_.find(host_path); it != by_path_.end()) {
    auto& existing = it->second;
    switch (existing.state) {
    case scsi_state::attached:
      ++existing.refs;
      return scsi_add_decision{scsi_add_decision::shared, existing};
    case scsi_state::attaching:
      ++existing.waiters;
      return scsi_add_decision{scsi_add_decision::wait_attach, existing};
    case scsi_state::detaching:
      return scsi_add_decision{scsi_add_decision::wait_detach, existing};
    }
  }
  // v0.8.8 could only use controller 0, so its 65th disk was "too many SCSI
  // attachments"; with every configured controller full we say the same.
  auto slot = first_free_slot();
  if (!slot) {
    return error{errc::too_many_attachments};
  }
  used_[slot->controller][slot->lun] = true;
  scsi_attachment fresh;
  fresh.host_path = host_path;
  fresh.uvm_path = uvm_path;
  fresh.slot = *slot;
  fresh.read_only = read_only;
  fresh.type = type;
  auto& entry = by_path_.emplace(host_path, std::move(fresh)).first->second;
  return scsi_add_decision{scsi_add_decision::attach, entry};
}

result<uint32_t> scsi_slot_table::attach_succeeded(const std::string& host_path) {
  auto* entry = in_state(host_path, scsi_state::attaching);
  if (entry == nullptr) {
    return not_in_state("attach", host_path);
  }
  entry->refs = 1 + entry->waiters;
  entry->waiters = 0;
  entry->state = scsi_state::attached;
  return entry->refs;
}

result<uint32_t> scsi_slot_table::attach_failed(const std::string& host_path) {
  auto* entry = in_state(host_path, scsi_state::attaching);
  if (entry == nullptr) {
    return not_in_state("attach", host_path);
  }
  uint32_t waiters = entry->waiters;
  used_[entry->slot.controller][entry->slot.lun] = false;
  by_path_.erase(host_path);
  return waiters;
}

result<scsi_remove_decision> scsi_slot_table::begin_remove(const std::string& host_path) {
  if (controllers_ == 0) {
    return error{errc::no_scsi_controllers};
  }
  auto it = by_path_.find(host_path);
  if (it == by_path_.end() || it->second.state == scsi_state::attaching) {
    return error{errc::not_attached};
  }
  auto& entry = it->second;
  if (entry.state == scsi_state::detaching) {
    return scsi_remove_decision{scsi_remove_decision::wait_detach, entry};
  }
  if (--entry.refs > 0) {
    return scsi_remove_decision{scsi_remove_decision::released, entry};
  }
  entry.state = scsi_state::detaching;
  return scsi_remove_decision{scsi_remove_decision::detach, entry};
}

error scsi_slot_table::detach_succeeded(const std::string& host_path) {
  auto* entry = in_state(host_path, scsi_state::detaching);
  if (entry == nullptr) {
    return not_in_state("detach", host_path);
  }
  used_[entry->slot.controller][entry->slot.lun] = false;
  by_path_.erase(host_path);
  return {};
}

error scsi_slot_table::detach_failed(const std::string& host_path) {
  auto* entry = in_state(host_path, scsi_state::detaching);
  if (entry == nullptr) {
    return not_in_state("detach", host_path);
  }
  entry->refs = 1;
  entry->state = scsi_state::attached;
  return {};
}

result<scsi_attachment> scsi_slot_table::find(const std::string& host_path) const {
  const auto* a = attached(host_path);
  if (a == nullptr) {
    return error{errc::not_attached};
  }
  return *a;
}

const scsi_attachment* scsi_slot_table::attached(const std::string& host_path) const {
  auto it = by_path_.find(host_path);
  return it != by_path_.end() && it->second.state == scsi_state::attached ? &it->second : nullptr;
}

std::vector<scsi_attachment> scsi_slot_table::entries() const {
  std::vector<scsi_attachment> out;
  out.reserve(by_path_.size());
  for (const auto& [path, entry] : by_path_) {
    out.push_back(entry);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.slot.controller != b.slot.controller ? a.slot.controller < b.slot.controller
                                                  : a.slot.lun < b.slot.lun;
  });
  return out;
}

nlohmann::json scsi_slot_table::to_json() const {
  auto out = nlohmann::json::object();
  for (const auto& [path, entry] : by_path_) {
    out[std::to_string(entry.slot.controller) + ":" + std::to_string(entry.slot.lun)] = {
        {"host_path", entry.host_path},
        {"uvm_path", entry.uvm_path},
        {"refs", entry.refs},
        {"waiters", entry.waiters},
        {"state", to_string(entry.state)},
        {"read_only", entry.read_only},
        {"type", entry.type}};
  }
  return out;
}

std::optional<scsi_slot> scsi_slot_table::first_free_slot() const {
  for (uint32_t controller = 0; controller < controllers_; ++controller) {
    for (uint32_t lun = 0; lun < scsi_luns_per_controller; ++lun) {
      if (!used_[controller][lun]) {
        return scsi_slot{controller, lun};
      }
    }
  }
  return std::nullopt;
}

scsi_attachment* scsi_slot_table::in_state(const std::string& host_path, scsi_state state) {
  auto it = by_path_.find(host_path);
  return it != by_path_.end() && it->second.state == state ? &it->second : nullptr;
}

} // namespace uvm
