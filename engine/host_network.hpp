// The host's network service as the engine models it: HNS namespaces and
// the endpoints attached to them. On Windows this is HNS itself; Linux has
// none and the simulated HCS models none (it sees only the VM's network
// adapters), so the engine keeps this table, which NetworkEndpoints.Release
// (uvm-api.md §11.6, engine/resources.hpp) cleans up. No CAF; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "messages/errors.hpp"

namespace uvm {

class host_network {
public:
  // Creates the namespace unless it exists.
  void add_namespace(const std::string& ns);
  // Attaches an endpoint to an existing namespace (again: nothing changes).
  error add_namespace_endpoint(const std::string& ns, const std::string& endpoint);
  // errc::not_found for an unknown namespace or an endpoint not in it.
  error remove_namespace_endpoint(const std::string& ns, const std::string& endpoint);
  error remove_namespace(const std::string& ns);
  // Every namespace with its endpoints.
  std::map<std::string, std::set<std::string>> namespaces() const;
  // The next `count` calls fail with `e` (fault injection).
  void fail_next(uint32_t count, error e);

private:
  // The armed fault, if any; holds mutex_.
  error take_fault();

  mutable std::mutex mutex_;
  std::map<std::string, std::set<std::string>> namespaces_;
  uint32_t faults_ = 0;
  error fault_;
};

} // namespace uvm
