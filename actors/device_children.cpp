#include "actors/device_children.hpp"

#include <nlohmann/json.hpp>

namespace uvm {

const char* to_string(child_kind kind) {
  switch (kind) {
  case child_kind::scsi:
    return "scsi";
  case child_kind::vpmem:
    return "vpmem";
  case child_kind::shares:
    return "shares";
  case child_kind::gcs_bridge:
    return "gcs_bridge";
  }
  return "unknown";
}

namespace {

// The table a child starts with: what the create document already put in
// the VM (WCOW scratch at SCSI 0:0, the VHD root FS on VPMEM 0).
nlohmann::json initial_table(child_kind kind, const hcs::create_plan& plan) {
  switch (kind) {
  case child_kind::scsi: {
    nlohmann::json attachments = nlohmann::json::object();
    if (!plan.scratch_disk_path.empty()) {
      attachments["0:0"] = {{"host_path", plan.scratch_disk_path}, {"uvm_path", ""}, {"refs", 1}};
    }
    return {{"controllers", plan.scsi_controller_count}, {"attachments", attachments}};
  }
  case child_kind::vpmem: {
    nlohmann::json devices = nlohmann::json::object();
    if (!plan.vpmem_slot0_key.empty()) {
      devices["0"] = {{"host_path", plan.vpmem_slot0_key}, {"uvm_path", "/"}, {"refs", 1}};
    }
    return {{"max_count", plan.vpmem_max_count},
            {"max_size_bytes", plan.vpmem_max_size_bytes},
            {"devices", devices}};
  }
  case child_kind::shares:
    return {{"vsmb", nlohmann::json::object()}, {"plan9", nlohmann::json::object()}};
  case child_kind::gcs_bridge:
    return {{"external", plan.external_guest_connection}, {"connected", false}};
  }
  return nlohmann::json::object();
}

struct device_child_state {
  child_kind kind = child_kind::scsi;
  nlohmann::json table;
  static inline const char* name = "uvm_device_child";
};

device_child_actor::behavior_type
device_child(device_child_actor::stateful_pointer<device_child_state> self, child_kind kind,
             nlohmann::json table) {
  self->state.kind = kind;
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
  return parent->spawn<caf::linked>(device_child, kind, initial_table(kind, plan));
}

} // namespace uvm
