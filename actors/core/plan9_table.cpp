#include "actors/core/plan9_table.hpp"

#include <algorithm>

namespace uvm {

namespace {

error not_in_state(const char* what, const std::string& name) {
  return error{errc::internal, std::string{"no Plan9 "} + what + " in flight for share " + name};
}

} // namespace

const char* to_string(plan9_state state) {
  switch (state) {
  case plan9_state::adding:
    return "adding";
  case plan9_state::live:
    return "live";
  case plan9_state::removing:
    return "removing";
  }
  return "unknown";
}

int32_t plan9_table::flags_for(bool read_only, bool restrict_access) {
  int32_t flags = hcs::plan9_share::flag_linux_metadata;
  if (read_only) {
    flags |= hcs::plan9_share::flag_read_only;
  }
  if (restrict_access) {
    flags |= hcs::plan9_share::flag_restrict_file_access;
  }
  return flags;
}

result<plan9_add_decision> plan9_table::begin_add(const std::string& host_path,
                                                  const std::string& uvm_path, bool read_only,
                                                  bool restrict_access,
                                                  std::vector<std::string> allowed_files) {
  if (uvm_path.empty()) {
    return error{errc::bad_request, "uvmPath must be passed to AddPlan9"};
  }
  const int32_t flags = flags_for(read_only, restrict_access);
  // At most one share per identity exists: a match is never added twice. A
  // linear scan is enough for the handful of shares a VM has.
  auto same = std::find_if(by_name_.begin(), by_name_.end(), [&](const auto& entry) {
    const auto& m = entry.second.mount;
    return m.host_path == host_path && m.uvm_path == uvm_path && m.flags == flags &&
           m.read_only == read_only && m.allowed_files == allowed_files;
  });
  if (same != by_name_.end()) {
    auto& existing = same->second;
    switch (existing.state) {
    case plan9_state::live:
      ++existing.refs;
      return plan9_add_decision{plan9_add_decision::shared, existing};
    case plan9_state::adding:
      ++existing.waiters;
      return plan9_add_decision{plan9_add_decision::wait_attach, existing};
    case plan9_state::removing:
      return plan9_add_decision{plan9_add_decision::wait, existing};
    }
  }
  plan9_record record;
  record.mount.name = std::to_string(counter_++);
  record.mount.host_path = host_path;
  record.mount.uvm_path = uvm_path;
  record.mount.flags = flags;
  record.mount.read_only = read_only;
  record.mount.allowed_files = std::move(allowed_files);
  auto& entry = by_name_.emplace(record.mount.name, std::move(record)).first->second;
  return plan9_add_decision{plan9_add_decision::add, entry};
}

result<uint32_t> plan9_table::add_succeeded(const std::string& name) {
  auto* record = in_state(name, plan9_state::adding);
  if (record == nullptr) {
    return not_in_state("add", name);
  }
  record->refs = 1 + record->waiters;
  record->waiters = 0;
  record->state = plan9_state::live;
  return record->refs;
}

result<uint32_t> plan9_table::add_failed(const std::string& name) {
  auto* record = in_state(name, plan9_state::adding);
  if (record == nullptr) {
    return not_in_state("add", name);
  }
  uint32_t waiters = record->waiters;
  by_name_.erase(name);
  return waiters;
}

result<plan9_remove_decision> plan9_table::begin_remove(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second.state == plan9_state::adding) {
    return error{errc::not_attached};
  }
  auto& record = it->second;
  if (record.state == plan9_state::removing) {
    return plan9_remove_decision{plan9_remove_decision::wait, record};
  }
  if (--record.refs > 0) {
    return plan9_remove_decision{plan9_remove_decision::released, record};
  }
  record.state = plan9_state::removing;
  return plan9_remove_decision{plan9_remove_decision::remove, record};
}

error plan9_table::remove_succeeded(const std::string& name) {
  if (in_state(name, plan9_state::removing) == nullptr) {
    return not_in_state("remove", name);
  }
  by_name_.erase(name);
  return {};
}

error plan9_table::remove_failed(const std::string& name) {
  auto* record = in_state(name, plan9_state::removing);
  if (record == nullptr) {
    return not_in_state("remove", name);
  }
  record->refs = 1;
  record->state = plan9_state::live;
  return {};
}

result<plan9_record> plan9_table::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second.state != plan9_state::live) {
    return error{errc::not_attached};
  }
  return it->second;
}

std::vector<plan9_record> plan9_table::entries() const {
  std::vector<plan9_record> out;
  out.reserve(by_name_.size());
  for (const auto& [name, record] : by_name_) {
    out.push_back(record);
  }
  // Decimal names without leading zeros: shorter is smaller.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& x = a.mount.name;
    const auto& y = b.mount.name;
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });
  return out;
}

nlohmann::json plan9_table::to_json() const {
  auto out = nlohmann::json::object();
  for (const auto& [name, record] : by_name_) {
    const auto& m = record.mount;
    out[name] = {
        {"host_path", m.host_path},  {"uvm_path", m.uvm_path},           {"flags", m.flags},
        {"read_only", m.read_only},  {"allowed_files", m.allowed_files}, {"refs", record.refs},
        {"waiters", record.waiters}, {"state", to_string(record.state)}};
  }
  return out;
}

plan9_record* plan9_table::in_state(const std::string& name, plan9_state state) {
  auto it = by_name_.find(name);
  return it != by_name_.end() && it->second.state == state ? &it->second : nullptr;
}

} // namespace uvm
