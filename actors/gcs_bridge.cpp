#include "actors/gcs_bridge.hpp"

#include <nlohmann/json.hpp>

#include "bridge/guest_stub.hpp"
#include "hcs/device_requests.hpp"
#include "hcs/go_json.hpp"

namespace uvm {

namespace {

struct gcs_bridge_state {
  std::string vm_id;
  bool external = true;
  bridge::guest_stub guest;
  std::shared_ptr<bridge::frame_log> log;
  uint64_t next_id = 1;
  static inline const char* name = "uvm_gcs_bridge";
};

gcs_bridge_actor::behavior_type
gcs_bridge(gcs_bridge_actor::stateful_pointer<gcs_bridge_state> self, std::string vm_id,
           bool external, std::shared_ptr<bridge::frame_log> log) {
  self->state.vm_id = std::move(vm_id);
  self->state.external = external;
  self->state.log = std::move(log);
  return {
      [=](guest_modify_atom, const std::string& request,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        auto id = st.next_id++;
        bool logging = st.log && st.log->active();
        // v0.8.8 sends the zero GUID when there is no activity.
        auto activity_id = activity.empty() ? std::string{hcs::null_container_id} : activity;
        if (logging) {
          auto guest = hcs::ojson::parse(request, nullptr, false);
          st.log->write(st.vm_id, "send", "ModifySettings", id,
                        hcs::bridge_modify_body(guest, activity_id));
        }
        auto r = st.guest.modify_settings(request);
        if (logging) {
          hcs::ojson response = {{"Result", static_cast<int32_t>(r.hresult)},
                                 {"ActivityId", activity_id}};
          if (!r.ok()) {
            response["ErrorMessage"] = r.message;
          }
          st.log->write(st.vm_id, "recv", "ModifySettingsResponse", id, hcs::go_dump(response));
        }
        if (!r.ok()) {
          // The host bridge's wording for a failed guest RPC (gcs-bridge.md §6.2).
          return to_caf_error(error{errc::hcs_failure, "guest RPC failure: " + r.message});
        }
        return caf::ok_atom_v;
      },
      [=](guest_fail_atom, uint32_t count) { self->state.guest.fail_next(count); },
      [=](view_atom) -> std::string {
        nlohmann::json view = {{"external", self->state.external},
                               {"guest", "in-process stub"},
                               {"mounts", self->state.guest.mounts()}};
        return view.dump();
      },
      [=](vm_exit_atom, const caf::error&) { self->quit(); },
  };
}

} // namespace

gcs_bridge_actor spawn_gcs_bridge(caf::local_actor* parent, std::string vm_id, bool external,
                                  std::shared_ptr<bridge::frame_log> log) {
  return parent->spawn<caf::linked>(gcs_bridge, std::move(vm_id), external, std::move(log));
}

} // namespace uvm
