// The network namespaces of one utility VM and the NICs that carry their
// endpoints (uvm-api.md §11).
//
// Words: a *namespace* is an HNS namespace id known to the VM; an
// *endpoint* is an HNS endpoint in it, deduplicated by its id; a *NIC* is the
// network adapter (a fresh GUID) that brings an endpoint into the VM.
//
// The table records what it hands out at once, so a concurrent duplicate
// (the same namespace or endpoint) is refused or skipped while the first
// call's requests are still in flight; a caller whose requests fail takes
// its records back with remove_namespace / remove_endpoints. Removals forget
// at once too, so a failed NIC removal is reported and not retried (v0.8.8
// kept an emptied entry that crashed the retry).
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hcs/device_requests.hpp"
#include "messages/errors.hpp"

namespace uvm {

struct netns_nic {
  std::string nic_id;
  hcs::network_endpoint endpoint;
};

class netns_table {
public:
  // AddNetNS: a known id is `network namespace already added`.
  error add_namespace(const std::string& id);

  // AddEndpointsToNS: records every endpoint the namespace does not hold
  // yet (first occurrence wins, also within `endpoints`), each with the NIC
  // id `new_nic_id()` gives it, and returns those NICs for the caller to add.
  result<std::vector<netns_nic>> add_endpoints(const std::string& id,
                                               const std::vector<hcs::network_endpoint>& endpoints,
                                               const std::function<std::string()>& new_nic_id);

  // RemoveEndpointsFromNS: forgets the listed endpoints the namespace holds
  // and returns their NICs for the caller to remove; others are ignored.
  result<std::vector<netns_nic>> remove_endpoints(const std::string& id,
                                                  const std::vector<std::string>& endpoint_ids);

  // RemoveNetNS: forgets the namespace and returns its NICs (by endpoint
  // id); std::nullopt for an unknown id, which is a success with nothing to
  // do.
  std::optional<std::vector<netns_nic>> remove_namespace(const std::string& id);

  bool contains(const std::string& id) const { return namespaces_.count(id) != 0; }
  // The NICs of a namespace by endpoint id; empty for an unknown one.
  std::vector<netns_nic> nics(const std::string& id) const;
  // namespace id -> endpoint id -> {nic_id, mac_address}.
  nlohmann::json to_json() const;

private:
  // Namespace id -> endpoint id -> NIC.
  std::map<std::string, std::map<std::string, netns_nic>> namespaces_;
};

} // namespace uvm
