#include "actors/vpci_controller.hpp"

#include <map>

#include "hcs/guid.hpp"

namespace uvm {

namespace {

struct vpci_state {
  std::optional<device_child> child;
  std::map<std::string, hcs::virtual_pci_device> devices; // by GUID, once assigned
  static inline const char* name = "uvm_vpci";
};

using vpci_pointer = vpci_child::stateful_pointer<vpci_state>;

nlohmann::json view_of(const std::map<std::string, hcs::virtual_pci_device>& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [id, device] : devices) {
    auto functions = nlohmann::json::array();
    for (const auto& f : device.functions) {
      functions.push_back({{"DeviceInstancePath", f.device_instance_path},
                           {"VirtualFunction", f.virtual_function}});
    }
    out[id] = {{"Functions", functions}};
  }
  return out;
}

vpci_child::behavior_type vpci_controller(vpci_pointer self, device_env env) {
  self->state.child.emplace(self, std::move(env));
  return device_behavior<vpci_child::behavior_type>(
      self, [=] { return view_of(self->state.devices).dump(); }, [] {}, settle_nothing,
      [=] {
        // Every assigned device under its GUID.
        std::vector<restore_step> out;
        for (const auto& [id, device] : self->state.devices) {
          out.push_back(restore_add(self, "VPCI device " + id, hcs::vpci_add(id, device)));
        }
        return out;
      },
      [=](assign_device_atom, const hcs::virtual_pci_device& device,
          const std::string& activity) -> caf::result<std::string> {
        return serve<std::string, assign_device_atom>(self, [&](auto reply) {
          auto id = hcs::new_guid();
          self->state.child->steps().add(hcs::vpci_add(id, device), activity,
                                         [self, id, device, activity, reply](const error& e) {
                                           if (e) {
                                             reply(e);
                                             return;
                                           }
                                           self->state.devices.emplace(id, device);
                                           publish_device(self, activity, "vpci", "added", id, id);
                                           reply(id);
                                         });
        });
      },
      [=](remove_device_atom, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_device_atom>(self, [&](auto reply) {
          // Unknown ids go to HCS too, as in the seed: its answer is the error.
          self->state.child->steps().remove(
              hcs::vpci_remove(id), {}, activity, [self, id, activity, reply](const error& e) {
                if (!e && self->state.devices.erase(id) > 0) {
                  publish_device(self, activity, "vpci", "removed", id, id);
                }
                reply(e);
              });
        });
      });
}

} // namespace

vpci_child spawn_vpci_controller(caf::local_actor* parent, device_env env) {
  return parent->spawn<caf::linked>(vpci_controller, std::move(env));
}

} // namespace uvm
