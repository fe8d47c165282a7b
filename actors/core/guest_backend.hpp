// The guest half of a device operation (uvm-api.md §4): a ModifySettings
// request to the guest's null container, as hcsshim's GuestBackend sends
// it. Two kinds answer it: the "stub" guest (the guest's mount table, in
// this process, no protocol: actors/core/stub_guest) and the GCS bridge
// (the bridge protocol to a real agent: actors/bridge_guest). The device
// children use this interface only, whichever guest the VM has.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "messages/errors.hpp"

namespace uvm {

class guest_backend {
public:
  // Called once, from any thread, possibly inside the call.
  using completion = std::function<void(error)>;

  virtual ~guest_backend() = default;

  // `request` is the GuestRequest's JSON text; a failure carries the host
  // bridge's wording, "guest RPC failure: <the guest's message>" (§6.2).
  virtual void modify(const std::string& request, const std::string& activity, completion done) = 0;
};

} // namespace uvm
