#include "actors/core/netns_table.hpp"

namespace uvm {

error netns_table::add_namespace(const std::string& id) {
  if (!namespaces_.emplace(id, namespace_entry{}).second) {
    return error{errc::netns_already_attached};
  }
  return {};
}

void netns_table::forget_namespace(const std::string& id) {
  namespaces_.erase(id);
}

result<std::vector<netns_nic>>
netns_table::add_endpoints(const std::string& id,
                           const std::vector<hcs::network_endpoint>& endpoints,
                           const std::function<std::string()>& new_nic_id) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end() || ns->second.removing) {
    return error{errc::netns_not_found};
  }
  std::vector<netns_nic> added;
  for (const auto& endpoint : endpoints) {
    if (ns->second.nics.count(endpoint.id) != 0) {
      continue;
    }
    netns_nic nic{new_nic_id(), endpoint};
    ns->second.nics.emplace(endpoint.id, nic);
    added.push_back(std::move(nic));
  }
  return added;
}

void netns_table::forget_endpoints(const std::string& id,
                                   const std::vector<std::string>& endpoint_ids) {
  if (auto ns = namespaces_.find(id); ns != namespaces_.end()) {
    for (const auto& endpoint_id : endpoint_ids) {
      ns->second.nics.erase(endpoint_id);
    }
  }
}

result<std::vector<netns_nic>>
netns_table::remove_endpoints(const std::string& id, const std::vector<std::string>& endpoint_ids) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end()) {
    return error{errc::netns_not_found};
  }
  std::vector<netns_nic> removing;
  for (const auto& endpoint_id : endpoint_ids) {
    auto nic = ns->second.nics.find(endpoint_id);
    if (nic != ns->second.nics.end() && !nic->second.removing) {
      nic->second.removing = true;
      removing.push_back(nic->second);
    }
  }
  return removing;
}

std::optional<std::vector<netns_nic>> netns_table::remove_namespace(const std::string& id) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end() || ns->second.removing) {
    return std::nullopt;
  }
  ns->second.removing = true;
  std::vector<netns_nic> removing;
  for (auto& [endpoint_id, nic] : ns->second.nics) {
    if (!nic.removing) {
      nic.removing = true;
      removing.push_back(nic);
    }
  }
  return removing;
}

void netns_table::nic_removed(const std::string& id, const std::string& endpoint_id) {
  if (auto ns = namespaces_.find(id); ns != namespaces_.end()) {
    ns->second.nics.erase(endpoint_id);
  }
}

void netns_table::nic_remove_failed(const std::string& id, const std::string& endpoint_id) {
  if (auto ns = namespaces_.find(id); ns != namespaces_.end()) {
    if (auto nic = ns->second.nics.find(endpoint_id); nic != ns->second.nics.end()) {
      nic->second.removing = false;
    }
  }
}

void netns_table::namespace_removed(const std::string& id, bool succeeded) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end()) {
    return;
  }
  if (succeeded) {
    namespaces_.erase(ns);
  } else {
    ns->second.removing = false;
  }
}

std::vector<std::string> netns_table::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, entry] : namespaces_) {
    out.push_back(id);
  }
  return out;
}

std::vector<netns_nic> netns_table::nics(const std::string& id) const {
  std::vector<netns_nic> out;
  if (auto ns = namespaces_.find(id); ns != namespaces_.end()) {
    for (const auto& [endpoint_id, nic] : ns->second.nics) {
      out.push_back(nic);
    }
  }
  return out;
}

nlohmann::json netns_table::to_json() const {
  auto out = nlohmann::json::object();
  for (const auto& [id, entry] : namespaces_) {
    auto& ns = out[id] = nlohmann::json::object();
    for (const auto& [endpoint_id, nic] : entry.nics) {
      ns[endpoint_id] = {{"nic_id", nic.nic_id}, {"mac_address", nic.endpoint.mac_address}};
    }
  }
  return out;
}

} // namespace uvm
