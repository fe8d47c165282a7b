#include "engine/host_network.hpp"

namespace uvm {

namespace {

error namespace_not_found(const std::string& ns) {
  return {errc::not_found, "HNS namespace " + ns + " not found"};
}

} // namespace

error host_network::take_fault() {
  if (faults_ == 0) {
    return {};
  }
  --faults_;
  return fault_;
}

void host_network::add_namespace(const std::string& ns) {
  std::lock_guard<std::mutex> lock{mutex_};
  namespaces_[ns];
}

error host_network::add_namespace_endpoint(const std::string& ns, const std::string& endpoint) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (auto e = take_fault()) {
    return e;
  }
  auto i = namespaces_.find(ns);
  if (i == namespaces_.end()) {
    return namespace_not_found(ns);
  }
  i->second.insert(endpoint);
  return {};
}

error host_network::remove_namespace_endpoint(const std::string& ns, const std::string& endpoint) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (auto e = take_fault()) {
    return e;
  }
  auto i = namespaces_.find(ns);
  if (i == namespaces_.end()) {
    return namespace_not_found(ns);
  }
  if (i->second.erase(endpoint) == 0) {
    return {errc::not_found, "HNS endpoint " + endpoint + " not found in namespace " + ns};
  }
  return {};
}

error host_network::remove_namespace(const std::string& ns) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (auto e = take_fault()) {
    return e;
  }
  if (namespaces_.erase(ns) == 0) {
    return namespace_not_found(ns);
  }
  return {};
}

std::map<std::string, std::set<std::string>> host_network::namespaces() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return namespaces_;
}

void host_network::fail_next(uint32_t count, error e) {
  std::lock_guard<std::mutex> lock{mutex_};
  faults_ = count;
  fault_ = std::move(e);
}

} // namespace uvm
