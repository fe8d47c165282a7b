// The network namespaces of one utility VM and the NICs that carry their
// endpoints (uvm-api.md §11).
//
// Words: a *namespace* is an HNS namespace id known to the VM; an
// *endpoint* is an HNS endpoint in it, deduplicated by its id; a *NIC* is the
// network adapter (a fresh GUID) that brings an endpoint into the VM.
//
// The table records what it hands out at once, so a concurrent duplicate
// (the same namespace or endpoint) is refused or skipped while the first
// call's requests are still in flight; a caller whose add fails takes its
// records back (forget_namespace / forget_endpoints). A removal only marks
// what it removes: a NIC is forgotten once HCS and the guest let go of it
// (nic_removed), and stays recorded when its removal fails
// (nic_remove_failed), so that a retry removes it (v0.8.8 kept the NIC too,
// but emptied entries that crashed the retry). A namespace being removed
// takes no new endpoints and leaves with namespace_removed.
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
  bool removing = false; // its removal is in flight
};

class netns_table {
public:
  // AddNetNS: a known id is `network namespace already added`.
  error add_namespace(const std::string& id);
  // Takes back a namespace whose add failed (with whatever it holds).
  void forget_namespace(const std::string& id);

  // AddEndpointsToNS: records every endpoint the namespace does not hold
  // yet (first occurrence wins, also within `endpoints`), each with the NIC
  // id `new_nic_id()` gives it, and returns those NICs for the caller to add.
  // A namespace being removed is `network namespace not found`.
  result<std::vector<netns_nic>> add_endpoints(const std::string& id,
                                               const std::vector<hcs::network_endpoint>& endpoints,
                                               const std::function<std::string()>& new_nic_id);
  // Takes back NICs whose add failed or was never tried.
  void forget_endpoints(const std::string& id, const std::vector<std::string>& endpoint_ids);

  // RemoveEndpointsFromNS: marks the listed endpoints the namespace holds
  // (and is not removing already) and returns their NICs for the caller to
  // remove; others are ignored.
  result<std::vector<netns_nic>> remove_endpoints(const std::string& id,
                                                  const std::vector<std::string>& endpoint_ids);
  // RemoveNetNS: marks the namespace and returns its NICs not being removed
  // yet; std::nullopt for an unknown id (or one already being removed),
  // which is a success with nothing to do.
  std::optional<std::vector<netns_nic>> remove_namespace(const std::string& id);

  // The outcome of one NIC's removal.
  void nic_removed(const std::string& id, const std::string& endpoint_id);
  void nic_remove_failed(const std::string& id, const std::string& endpoint_id);
  // The namespace's removal is over: forgotten when it succeeded, back to
  // normal (with the NICs that are left) when it failed.
  void namespace_removed(const std::string& id, bool succeeded);

  bool contains(const std::string& id) const { return namespaces_.count(id) != 0; }
  // Every namespace id, in order.
  std::vector<std::string> ids() const;
  // The NICs of a namespace by endpoint id; empty for an unknown one.
  std::vector<netns_nic> nics(const std::string& id) const;
  // namespace id -> endpoint id -> {nic_id, mac_address}.
  nlohmann::json to_json() const;

private:
  struct namespace_entry {
    std::map<std::string, netns_nic> nics; // by endpoint id
    bool removing = false;
  };

  std::map<std::string, namespace_entry> namespaces_;
};

} // namespace uvm
