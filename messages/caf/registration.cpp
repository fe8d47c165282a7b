#include "messages/caf/registration.hpp"

#include "messages/caf/interfaces.hpp"
#include "messages/caf/remote_calls.hpp"
#include "messages/events.hpp"
#include "messages/hcs_types.hpp"

namespace uvm {

caf::error to_caf_error(const error& e) {
  if (!e) {
    return caf::none;
  }
  return caf::make_error(e.code, e.text);
}

error from_caf_error(const caf::error& e) {
  if (!e) {
    return {};
  }
  if (e.category() == caf::atom("uvm")) {
    auto code = static_cast<errc>(e.code());
    if (e.context().match_elements<std::string>()) {
      return error{code, e.context().get_as<std::string>(0)};
    }
    return error{code};
  }
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
    case caf::sec::request_receiver_down:
      return error{errc::closed, "utility VM is closed"};
    case caf::sec::request_timeout:
      return error{errc::internal, "request timed out"};
    default:
      break;
    }
  }
  return error{errc::internal, caf::to_string(e)};
}

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<options>("uvm::options");
  cfg.add_message_type<options_lcow>("uvm::options_lcow");
  cfg.add_message_type<options_wcow>("uvm::options_wcow");
  cfg.add_message_type<vm_info>("uvm::vm_info");
  cfg.add_message_type<vm_stats>("uvm::vm_stats");
  cfg.add_message_type<cpu_limits>("uvm::cpu_limits");
  cfg.add_message_type<restart_policy>("uvm::restart_policy");
  cfg.add_message_type<exit_record>("uvm::exit_record");
  cfg.add_message_type<counter_kind>("uvm::counter_kind");
  cfg.add_message_type<lifecycle_state>("uvm::lifecycle_state");
  cfg.add_message_type<scsi_add_request>("uvm::scsi_add_request");
  cfg.add_message_type<scsi_mount>("uvm::scsi_mount");
  cfg.add_message_type<vm_access_type>("uvm::vm_access_type");
  cfg.add_message_type<vsmb_add_request>("uvm::vsmb_add_request");
  cfg.add_message_type<vsmb_share_handle>("uvm::vsmb_share_handle");
  cfg.add_message_type<plan9_add_request>("uvm::plan9_add_request");
  cfg.add_message_type<plan9_share_handle>("uvm::plan9_share_handle");
  cfg.add_message_type<combine_layers_request>("uvm::combine_layers_request");
  cfg.add_message_type<hcs::virtual_smb_share_options>("uvm::hcs::virtual_smb_share_options");
  cfg.add_message_type<hcs::virtual_pci_device>("uvm::hcs::virtual_pci_device");
  cfg.add_message_type<hcs::layer>("uvm::hcs::layer");
  cfg.add_message_type<hcs::network_endpoint>("uvm::hcs::network_endpoint");
  cfg.add_message_type<std::vector<hcs::network_endpoint>>("uvm::hcs::network_endpoints");
  cfg.add_message_type<vm_devices>("uvm::vm_devices");
  cfg.add_message_type<process_request>("uvm::process_request");
  cfg.add_message_type<guest_capabilities_info>("uvm::guest_capabilities_info");
  cfg.add_message_type<vm_created_event>("uvm::vm_created_event");
  cfg.add_message_type<vm_started_event>("uvm::vm_started_event");
  cfg.add_message_type<vm_exited_event>("uvm::vm_exited_event");
  cfg.add_message_type<vm_restart_event>("uvm::vm_restart_event");
  cfg.add_message_type<vm_closed_event>("uvm::vm_closed_event");
  cfg.add_message_type<device_event>("uvm::device_event");
  cfg.add_message_type<container_event>("uvm::container_event");
  // Remote nodes (messages/caf/remote_calls.hpp) and the handles they hand out.
  cfg.add_message_type<utility_vm_actor>("uvm::utility_vm_actor");
  cfg.add_message_type<host_info>("uvm::host_info");
  cfg.add_message_type<node_info>("uvm::node_info");
  cfg.add_message_type<sim_control>("uvm::sim_control");
  cfg.add_message_type<sim_control::kind>("uvm::sim_control::kind");
  cfg.add_message_type<remote_process>("uvm::remote_process");
  cfg.add_message_type<call_batch>("uvm::call_batch");
  cfg.add_message_type<reply_batch>("uvm::reply_batch");
  cfg.add_message_type<event_batch>("uvm::event_batch");
  cfg.add_message_type<stdio_stream>("uvm::stdio_stream");
  cfg.add_error_category(caf::atom("uvm"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           if (ctx.match_elements<std::string>()) {
                             return ctx.get_as<std::string>(0);
                           }
                           return std::string{default_text(static_cast<errc>(code))};
                         });
}

} // namespace uvm
