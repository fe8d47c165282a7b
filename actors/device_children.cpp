#include "actors/device_children.hpp"

#include <nlohmann/json.hpp>

namespace uvm {

namespace {

// The table a child starts with: what the create document already put in
// the VM (the VHD root FS on VPMEM 0).
nlohmann::json initial_table(child_kind kind, const hcs::create_plan& plan) {
  if (kind == child_kind::shares) {
    return {{"vsmb", nlohmann::json::object()}, {"plan9", nlohmann::json::object()}};
  }
  nlohmann::json devices = nlohmann::json::object();
  if (!plan.vpmem_slot0_key.empty()) {
    devices["0"] = {{"host_path", plan.vpmem_slot0_key}, {"uvm_path", "/"}, {"refs", 1}};
  }
  return {{"max_count", plan.vpmem_max_count},
          {"max_size_bytes", plan.vpmem_max_size_bytes},
          {"devices", devices}};
}

struct device_child_state {
  nlohmann::json table;
  static inline const char* name = "uvm_device_child";
};

device_child_actor::behavior_type
device_child(device_child_actor::stateful_pointer<device_child_state> self, nlohmann::json table) {
  self->state.table = std::move(table);
  return {
      [=](view_atom) -> std::string { return self->state.table.dump(); },
      // The VM is gone: nothing of this table exists any more.
      [=](vm_exit_atom, const caf::error&) { self->quit(); },
  };
}

} // namespace

device_child_actor spawn_device_child(caf::local_actor* parent, child_kind kind,
                                      const hcs::create_plan& plan) {
  return parent->spawn<caf::linked>(device_child, initial_table(kind, plan));
}

} // namespace uvm
