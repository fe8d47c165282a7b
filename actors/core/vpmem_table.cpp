#include "actors/core/vpmem_table.hpp"

#include <algorithm>

namespace uvm {

namespace {

error not_in_state(const char* what, const std::string& host_path) {
  return error{errc::internal, std::string{"no VPMEM "} + what + " in flight for " + host_path};
}

} // namespace

const char* to_string(vpmem_state state) {
  switch (state) {
  case vpmem_state::attaching:
    return "attaching";
  case vpmem_state::attached:
    return "attached";
  case vpmem_state::detaching:
    return "detaching";
  }
  return "unknown";
}

vpmem_table::vpmem_table(uint32_t max_count, uint64_t max_size_bytes,
                         std::optional<std::string> rootfs_file, bool packed)
    : max_size_bytes_(max_size_bytes), packed_(packed) {
  slots_.resize(std::min(max_count, max_vpmem_count));
  for (auto& s : slots_) {
    s.ranges = vpmem_allocator{max_size_bytes};
  }
  if (rootfs_file && !slots_.empty()) {
    vpmem_device root;
    root.host_path = *rootfs_file;
    root.uvm_path = "/";
    root.refs = 1;
    root.state = vpmem_state::attached;
    slots_[0].state = slot_state::whole;
    by_path_.emplace(*rootfs_file, std::move(root));
  }
}

result<vpmem_add_decision> vpmem_table::begin_add(const std::string& host_path,
                                                  uint64_t size_bytes) {
  if (auto it = by_path_.find(host_path); it != by_path_.end()) {
    auto& existing = it->second;
    switch (existing.state) {
    case vpmem_state::attached:
      ++existing.refs;
      return vpmem_add_decision{vpmem_add_decision::shared, existing};
    case vpmem_state::attaching:
      ++existing.waiters;
      return vpmem_add_decision{vpmem_add_decision::wait_attach, existing};
    case vpmem_state::detaching:
      return vpmem_add_decision{vpmem_add_decision::wait_detach, existing};
    }
  }
  if (size_bytes > max_size_bytes_) {
    return error{errc::max_vpmem_layer_size};
  }
  if (packed_) {
    return place_packed(host_path, size_bytes);
  }
  auto free = std::find_if(slots_.begin(), slots_.end(),
                           [](const slot& s) { return s.state == slot_state::free; });
  if (free == slots_.end()) {
    return error{errc::no_available_location};
  }
  free->state = slot_state::whole;
  vpmem_device fresh;
  fresh.host_path = host_path;
  fresh.device_number = static_cast<uint32_t>(free - slots_.begin());
  fresh.uvm_path = "/run/layers/p" + std::to_string(fresh.device_number);
  auto& entry = by_path_.emplace(host_path, std::move(fresh)).first->second;
  return vpmem_add_decision{vpmem_add_decision::attach, entry};
}

result<vpmem_add_decision> vpmem_table::place_packed(const std::string& host_path,
                                                     uint64_t size_bytes) {
  for (size_t n = 0; n < slots_.size(); ++n) {
    auto& s = slots_[n];
    if (s.state != slot_state::free && s.state != slot_state::packed) {
      continue;
    }
    auto offset = s.ranges.allocate(size_bytes);
    if (!offset) {
      continue;
    }
    bool new_device = s.state == slot_state::free;
    if (new_device) {
      s.state = slot_state::creating;
    }
    vpmem_device fresh;
    fresh.host_path = host_path;
    fresh.device_number = static_cast<uint32_t>(n);
    fresh.packed = true;
    fresh.offset = *offset;
    fresh.size_bytes = s.ranges.ranges().at(*offset);
    // hcsshim's lcowPackedVPMemLayerFmt.
    fresh.uvm_path = "/run/layers/p" + std::to_string(n) + "-" + std::to_string(fresh.offset) +
                     "-" + std::to_string(fresh.size_bytes);
    auto& entry = by_path_.emplace(host_path, std::move(fresh)).first->second;
    return vpmem_add_decision{vpmem_add_decision::attach, entry, new_device};
  }
  return error{errc::no_available_location};
}

result<uint32_t> vpmem_table::attach_succeeded(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::attaching);
  if (entry == nullptr) {
    return not_in_state("attach", host_path);
  }
  entry->refs = 1 + entry->waiters;
  entry->waiters = 0;
  entry->state = vpmem_state::attached;
  if (auto& s = slots_[entry->device_number]; s.state == slot_state::creating) {
    s.state = slot_state::packed;
  }
  return entry->refs;
}

result<uint32_t> vpmem_table::attach_failed(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::attaching);
  if (entry == nullptr) {
    return not_in_state("attach", host_path);
  }
  uint32_t waiters = entry->waiters;
  forget(*entry);
  return waiters;
}

result<vpmem_remove_decision> vpmem_table::begin_remove(const std::string& host_path) {
  auto it = by_path_.find(host_path);
  if (it == by_path_.end() || it->second.state == vpmem_state::attaching) {
    return error{errc::not_attached};
  }
  auto& entry = it->second;
  if (entry.state == vpmem_state::detaching) {
    return vpmem_remove_decision{vpmem_remove_decision::wait_detach, entry};
  }
  if (--entry.refs > 0) {
    return vpmem_remove_decision{vpmem_remove_decision::released, entry};
  }
  entry.state = vpmem_state::detaching;
  // Counted in every state: a layer still being added or removed is still
  // a mapping of the device.
  bool last = entry.packed && layers_on(entry.device_number) == 1;
  if (last) {
    slots_[entry.device_number].state = slot_state::deleting;
  }
  return vpmem_remove_decision{vpmem_remove_decision::detach, entry, last};
}

error vpmem_table::detach_succeeded(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::detaching);
  if (entry == nullptr) {
    return not_in_state("detach", host_path);
  }
  forget(*entry);
  return {};
}

error vpmem_table::detach_failed(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::detaching);
  if (entry == nullptr) {
    return not_in_state("detach", host_path);
  }
  entry->refs = 1;
  entry->state = vpmem_state::attached;
  if (auto& s = slots_[entry->device_number]; s.state == slot_state::deleting) {
    s.state = slot_state::packed;
  }
  return {};
}

result<vpmem_device> vpmem_table::find(const std::string& host_path) const {
  auto it = by_path_.find(host_path);
  if (it == by_path_.end() || it->second.state != vpmem_state::attached) {
    return error{errc::not_attached};
  }
  return it->second;
}

std::vector<vpmem_device> vpmem_table::entries() const {
  std::vector<vpmem_device> out;
  out.reserve(by_path_.size());
  for (const auto& [path, entry] : by_path_) {
    out.push_back(entry);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.device_number < b.device_number; });
  return out;
}

nlohmann::json vpmem_table::to_json() const {
  if (packed_) {
    return packed_json();
  }
  auto out = nlohmann::json::object();
  for (const auto& [path, entry] : by_path_) {
    out[std::to_string(entry.device_number)] = {{"host_path", entry.host_path},
                                                {"uvm_path", entry.uvm_path},
                                                {"refs", entry.refs},
                                                {"waiters", entry.waiters},
                                                {"state", to_string(entry.state)}};
  }
  return out;
}

nlohmann::json vpmem_table::packed_json() const {
  static const char* const slot_names[] = {"free", "whole", "creating", "packed", "deleting"};
  auto out = nlohmann::json::object();
  for (size_t n = 0; n < slots_.size(); ++n) {
    if (slots_[n].state != slot_state::free) {
      out[std::to_string(n)] = {{"state", slot_names[static_cast<size_t>(slots_[n].state)]},
                                {"mappings", nlohmann::json::object()}};
    }
  }
  for (const auto& [path, entry] : by_path_) {
    auto& device = out[std::to_string(entry.device_number)];
    if (!entry.packed) { // the VHD root file system
      device["host_path"] = entry.host_path;
      device["uvm_path"] = entry.uvm_path;
      continue;
    }
    device["mappings"][std::to_string(entry.offset)] = {
        {"host_path", entry.host_path},   {"uvm_path", entry.uvm_path},
        {"size_bytes", entry.size_bytes}, {"refs", entry.refs},
        {"waiters", entry.waiters},       {"state", to_string(entry.state)}};
  }
  return out;
}

uint32_t vpmem_table::layers_on(uint32_t device_number) const {
  return static_cast<uint32_t>(std::count_if(by_path_.begin(), by_path_.end(), [&](const auto& kv) {
    return kv.second.device_number == device_number;
  }));
}

void vpmem_table::forget(const vpmem_device& entry) {
  auto& s = slots_[entry.device_number];
  if (entry.packed) {
    s.ranges.release(entry.offset);
    if (s.state == slot_state::creating || s.state == slot_state::deleting) {
      s.state = slot_state::free;
    }
  } else {
    s.state = slot_state::free;
  }
  std::string key = entry.host_path; // `entry` lives in the map
  by_path_.erase(key);
}

vpmem_device* vpmem_table::in_state(const std::string& host_path, vpmem_state state) {
  auto it = by_path_.find(host_path);
  return it != by_path_.end() && it->second.state == state ? &it->second : nullptr;
}

} // namespace uvm
