#include "engine/late_undo.hpp"

#include "bridge/stdio_relay.hpp"
#include "messages/caf/interfaces.hpp"
#include "messages/caf/registration.hpp"

namespace uvm {

namespace {

template <class... Ts>
std::vector<caf::message> one(Ts&&... xs) {
  return {caf::make_message(std::forward<Ts>(xs)...)};
}

} // namespace

late_release late_undo(const caf::message& call, const caf::message& reply) {
  auto str = [&](size_t i) -> const std::string& { return call.get_as<std::string>(i); };
  if (call.match_elements<add_scsi_atom, scsi_add_request>()) {
    const auto& r = call.get_as<scsi_add_request>(1);
    return {one(remove_scsi_atom_v, r.host_path, r.activity_id)};
  }
  if (call.match_elements<add_vpmem_atom, std::string, std::string>()) {
    return {one(remove_vpmem_atom_v, str(1), str(2))};
  }
  if (call.match_elements<add_vsmb_atom, vsmb_add_request>()) {
    const auto& r = call.get_as<vsmb_add_request>(1);
    return {one(remove_vsmb_atom_v, r.host_path, r.activity_id)};
  }
  if (call.match_elements<add_plan9_atom, plan9_add_request>() &&
      reply.match_elements<plan9_share_handle>()) {
    return {one(remove_plan9_atom_v, reply.get_as<plan9_share_handle>(0).name,
                call.get_as<plan9_add_request>(1).activity_id)};
  }
  if (call.match_elements<add_pipe_atom, std::string, std::string>()) {
    return {one(remove_pipe_atom_v, str(1), str(2))};
  }
  if (call.match_elements<add_netns_atom, std::string, std::string>()) {
    return {one(remove_netns_atom_v, str(1), str(2))};
  }
  if (call.match_elements<add_endpoints_atom, std::string, std::vector<hcs::network_endpoint>,
                          std::string>()) {
    return {one(remove_endpoints_atom_v, str(1), call.get_as<std::vector<hcs::network_endpoint>>(2),
                str(3))};
  }
  if (call.match_elements<assign_device_atom, hcs::virtual_pci_device, std::string>() &&
      reply.match_elements<std::string>()) {
    return {one(remove_device_atom_v, reply.get_as<std::string>(0), str(2))};
  }
  if (call.match_elements<combine_layers_atom, combine_layers_request>()) {
    const auto& r = call.get_as<combine_layers_request>(1);
    return {one(remove_layers_atom_v, r.root_path, r.activity_id)};
  }
  if (call.match_elements<exec_process_atom, process_request>() &&
      reply.match_elements<process_started>()) {
    // Nobody reads its stdio. A container's process is killed (signal 0:
    // the guest's kill); one in the utility VM itself cannot be signalled
    // (the guest signals container processes only, gcs-bridge §7.7), so
    // it runs to its end, kept. Either way the VM forgets it.
    const auto& p = reply.get_as<process_started>(0);
    if (p.stdio) {
      p.stdio->close();
    }
    bool in_container = !call.get_as<process_request>(1).container_id.empty();
    late_release out;
    if (in_container) {
      out.undo.push_back(caf::make_message(signal_process_atom_v, p.container_id, p.pid, int32_t{0},
                                           std::string{}));
    }
    out.undo.push_back(caf::make_message(forget_process_atom_v, p.container_id, p.pid));
    out.kept = !in_container;
    return out;
  }
  if (call.match_element<create_atom>(0) && reply.match_elements<utility_vm_actor, vm_info>()) {
    // Nobody holds the VM: it is closed again.
    late_release out{one(close_atom_v, std::string{})};
    out.target = caf::actor_cast<caf::actor>(reply.get_as<utility_vm_actor>(0));
    return out;
  }
  if (call.match_elements<create_container_atom, std::string, std::string, std::string>() ||
      call.match_element<start_atom>(0) || call.match_element<start_container_atom>(0)) {
    return {{}, true};
  }
  return {};
}

} // namespace uvm
