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
                         std::optional<std::string> rootfs_file)
    : max_size_bytes_(max_size_bytes), used_(std::min(max_count, max_vpmem_count), false) {
  if (rootfs_file && !used_.empty()) {
    vpmem_device root;
    root.host_path = *rootfs_file;
    root.uvm_path = "/";
    root.refs = 1;
    root.state = vpmem_state::attached;
    used_[0] = true;
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
  auto slot = std::find(used_.begin(), used_.end(), false);
  if (slot == used_.end()) {
    return error{errc::no_available_location};
  }
  *slot = true;
  vpmem_device fresh;
  fresh.host_path = host_path;
  fresh.device_number = static_cast<uint32_t>(slot - used_.begin());
  fresh.uvm_path = "/run/layers/p" + std::to_string(fresh.device_number);
  auto& entry = by_path_.emplace(host_path, std::move(fresh)).first->second;
  return vpmem_add_decision{vpmem_add_decision::attach, entry};
}

result<uint32_t> vpmem_table::attach_succeeded(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::attaching);
  if (entry == nullptr) {
    return not_in_state("attach", host_path);
  }
  entry->refs = 1 + entry->waiters;
  entry->waiters = 0;
  entry->state = vpmem_state::attached;
  return entry->refs;
}

result<uint32_t> vpmem_table::attach_failed(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::attaching);
  if (entry == nullptr) {
    return not_in_state("attach", host_path);
  }
  uint32_t waiters = entry->waiters;
  used_[entry->device_number] = false;
  by_path_.erase(host_path);
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
  return vpmem_remove_decision{vpmem_remove_decision::detach, entry};
}

error vpmem_table::detach_succeeded(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::detaching);
  if (entry == nullptr) {
    return not_in_state("detach", host_path);
  }
  used_[entry->device_number] = false;
  by_path_.erase(host_path);
  return {};
}

error vpmem_table::detach_failed(const std::string& host_path) {
  auto* entry = in_state(host_path, vpmem_state::detaching);
  if (entry == nullptr) {
    return not_in_state("detach", host_path);
  }
  entry->refs = 1;
  entry->state = vpmem_state::attached;
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

vpmem_device* vpmem_table::in_state(const std::string& host_path, vpmem_state state) {
  auto it = by_path_.find(host_path);
  return it != by_path_.end() && it->second.state == state ? &it->second : nullptr;
}

} // namespace uvm
