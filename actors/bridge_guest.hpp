// The guest step over the GCS bridge (guest_backend for a VM whose guest
// speaks the bridge protocol): each request goes to the VM's bridge child,
// sent as the VM (the only sender the bridge takes guest requests from),
// and its outcome comes back through the completion, from the bridge
// child's turn. The bridge child ends only with the VM's system, and then
// every device child fails what it has pending anyway.
#pragma once

#include <caf/send.hpp>

#include "actors/core/guest_backend.hpp"
#include "actors/internal_calls.hpp"

namespace uvm {

class bridge_guest : public guest_backend {
public:
  bridge_guest(caf::actor_addr vm, caf::actor_addr bridge)
      : vm_(std::move(vm)), bridge_(std::move(bridge)) {}

  void modify(const std::string& request, const std::string& activity, completion done) override {
    auto vm = caf::actor_cast<caf::actor>(vm_);
    auto bridge = caf::actor_cast<caf::actor>(bridge_);
    if (!vm || !bridge) {
      done(error{errc::hcs_failure, "bridge closed: the utility VM exited"});
      return;
    }
    caf::send_as(vm, bridge, guest_modify_request{request, activity, std::move(done)});
  }

private:
  caf::actor_addr vm_;
  caf::actor_addr bridge_;
};

} // namespace uvm
