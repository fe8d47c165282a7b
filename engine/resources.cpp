#include "engine/resources.hpp"

#include "actors/core/logging.hpp"
#include "engine/calls.hpp"

namespace uvm {

namespace resource {

error scsi_mount::release(const std::string& activity) const {
  return call_blocking(*this, calls::release{activity});
}

void scsi_mount::release(release_callback done, const std::string& activity,
                         call_deadline due) const {
  call_async(*this, calls::release{activity}, std::move(done), due);
}

caf::message scsi_mount::release_message(const std::string& activity) const {
  return caf::make_message(remove_scsi_atom_v, host_path, activity);
}

error vsmb_share::release(const std::string& activity) const {
  return call_blocking(*this, calls::release{activity});
}

void vsmb_share::release(release_callback done, const std::string& activity,
                         call_deadline due) const {
  call_async(*this, calls::release{activity}, std::move(done), due);
}

caf::message vsmb_share::release_message(const std::string& activity) const {
  return caf::make_message(remove_vsmb_atom_v, host_path, activity);
}

error plan9_share::release(const std::string& activity) const {
  return call_blocking(*this, calls::release{activity});
}

void plan9_share::release(release_callback done, const std::string& activity,
                          call_deadline due) const {
  call_async(*this, calls::release{activity}, std::move(done), due);
}

caf::message plan9_share::release_message(const std::string& activity) const {
  return caf::make_message(remove_plan9_atom_v, name, activity);
}

error pipe_mount::release(const std::string& activity) const {
  return call_blocking(*this, calls::release{activity});
}

void pipe_mount::release(release_callback done, const std::string& activity,
                         call_deadline due) const {
  call_async(*this, calls::release{activity}, std::move(done), due);
}

caf::message pipe_mount::release_message(const std::string& activity) const {
  return caf::make_message(remove_pipe_atom_v, host_path, activity);
}

error vpci_device::release(const std::string& activity) const {
  return call_blocking(*this, calls::release{activity});
}

void vpci_device::release(release_callback done, const std::string& activity,
                          call_deadline due) const {
  call_async(*this, calls::release{activity}, std::move(done), due);
}

caf::message vpci_device::release_message(const std::string& activity) const {
  return caf::make_message(remove_device_atom_v, id, activity);
}

error network_endpoints::release() {
  auto e = call_blocking(*this, calls::release_network_endpoints{});
  if (!e) {
    endpoint_ids.clear();
  }
  return e;
}

void network_endpoints::release(release_callback done, call_deadline due) const {
  call_async(*this, calls::release_network_endpoints{}, std::move(done), due);
}

} // namespace resource

namespace calls {

void release::warn_release_failed(const std::string& vm_id, const std::string& activity,
                                  const error& e) {
  logging::warn({vm_id, activity}, "failed to release a resource", {{"error", e.text}});
}

error release_network_endpoints::run(const resource::network_endpoints& h) const {
  if (h.hns() == nullptr) {
    return error{errc::invalid_state, "no host network"};
  }
  for (const auto& endpoint : h.endpoint_ids) {
    if (auto e = h.hns()->remove_namespace_endpoint(h.namespace_id, endpoint)) {
      if (e.code != errc::not_found) {
        return e;
      }
      logging::warn({}, "removing endpoint from namespace: does not exist",
                    {{"endpoint", endpoint}, {"namespace", h.namespace_id}});
    }
  }
  if (auto e = h.hns()->remove_namespace(h.namespace_id); e && e.code != errc::not_found) {
    return e;
  }
  return {};
}

result<resource::network_endpoints> setup_network_endpoints::run(const engine& eng) const {
  auto hns = eng.hns_handle();
  hns->add_namespace(namespace_id);
  for (const auto& endpoint : endpoint_ids) {
    if (auto e = hns->add_namespace_endpoint(namespace_id, endpoint)) {
      return e;
    }
  }
  return resource::network_endpoints{endpoint_ids, namespace_id, eng.site().eng, std::move(hns)};
}

} // namespace calls

} // namespace uvm
