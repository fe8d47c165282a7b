#include "actors/core/netns_table.hpp"

namespace uvm {

error netns_table::add_namespace(const std::string& id) {
  if (!namespaces_.emplace(id, std::map<std::string, netns_nic>{}).second) {
    return error{errc::netns_already_attached};
  }
  return {};
}

result<std::vector<netns_nic>>
netns_table::add_endpoints(const std::string& id,
                           const std::vector<hcs::network_endpoint>& endpoints,
                           const std::function<std::string()>& new_nic_id) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end()) {
    return error{errc::netns_not_found};
  }
  std::vector<netns_nic> added;
  for (const auto& endpoint : endpoints) {
    if (ns->second.count(endpoint.id) != 0) {
      continue;
    }
    netns_nic nic{new_nic_id(), endpoint};
    ns->second.emplace(endpoint.id, nic);
    added.push_back(std::move(nic));
  }
  return added;
}

result<std::vector<netns_nic>>
netns_table::remove_endpoints(const std::string& id, const std::vector<std::string>& endpoint_ids) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end()) {
    return error{errc::netns_not_found};
  }
  std::vector<netns_nic> removed;
  for (const auto& endpoint_id : endpoint_ids) {
    auto nic = ns->second.find(endpoint_id);
    if (nic != ns->second.end()) {
      removed.push_back(std::move(nic->second));
      ns->second.erase(nic);
    }
  }
  return removed;
}

std::optional<std::vector<netns_nic>> netns_table::remove_namespace(const std::string& id) {
  auto ns = namespaces_.find(id);
  if (ns == namespaces_.end()) {
    return std::nullopt;
  }
  std::vector<netns_nic> removed;
  for (auto& [endpoint_id, nic] : ns->second) {
    removed.push_back(std::move(nic));
  }
  namespaces_.erase(ns);
  return removed;
}

std::vector<netns_nic> netns_table::nics(const std::string& id) const {
  std::vector<netns_nic> out;
  if (auto ns = namespaces_.find(id); ns != namespaces_.end()) {
    for (const auto& [endpoint_id, nic] : ns->second) {
      out.push_back(nic);
    }
  }
  return out;
}

nlohmann::json netns_table::to_json() const {
  auto out = nlohmann::json::object();
  for (const auto& [id, endpoints] : namespaces_) {
    auto& ns = out[id] = nlohmann::json::object();
    for (const auto& [endpoint_id, nic] : endpoints) {
      ns[endpoint_id] = {{"nic_id", nic.nic_id}, {"mac_address", nic.endpoint.mac_address}};
    }
  }
  return out;
}

} // namespace uvm
