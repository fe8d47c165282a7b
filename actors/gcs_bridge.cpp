#include "actors/gcs_bridge.hpp"

#include <nlohmann/json.hpp>

#include "bridge/guest_stub.hpp"

namespace uvm {

namespace {

struct gcs_bridge_state {
  std::string vm_id;
  bool external = true;
  bridge::guest_stub guest;
  static inline const char* name = "uvm_gcs_bridge";
};

gcs_bridge_actor::behavior_type
gcs_bridge(gcs_bridge_actor::stateful_pointer<gcs_bridge_state> self, std::string vm_id,
           bool external) {
  self->state.vm_id = std::move(vm_id);
  self->state.external = external;
  return {
      [=](guest_modify_atom, const std::string& request,
          const std::string&) -> caf::result<caf::ok_atom> {
        auto r = self->state.guest.modify_settings(request);
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

gcs_bridge_actor spawn_gcs_bridge(caf::local_actor* parent, std::string vm_id, bool external) {
  return parent->spawn<caf::linked>(gcs_bridge, std::move(vm_id), external);
}

} // namespace uvm
