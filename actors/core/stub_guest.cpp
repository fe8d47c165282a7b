#include "actors/core/stub_guest.hpp"

#include "bridge/rpc_messages.hpp"

namespace uvm {

error stub_guest::modify_settings(const std::string& request, const std::string& activity) {
  auto id = next_id_++;
  bool logging = log_ && log_->active();
  // v0.8.8 sends the zero GUID when there is no activity (only the frame
  // log shows it).
  auto activity_id = [&] { return activity.empty() ? std::string{bridge::zero_guid} : activity; };
  if (logging) {
    log_->write(vm_id_, "send", "Request(ModifySettings)", id,
                bridge::encode(
                    bridge::modify_settings_request{{bridge::zero_guid, activity_id()}, request}));
  }
  auto r = table_.modify_settings(request);
  if (logging) {
    auto response =
        r.ok() ? bridge::response{} : bridge::failure(r.hresult, r.message, activity_id());
    response.activity_id = activity_id();
    log_->write(vm_id_, "recv", "Response(ModifySettings)", id, bridge::encode(response));
  }
  if (!r.ok()) {
    return error{errc::hcs_failure, "guest RPC failure: " + r.message};
  }
  return {};
}

} // namespace uvm
