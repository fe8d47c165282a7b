// The children of a utility VM: which guest their guest steps go to, what
// each knows of the VM, and the VM's view made of theirs.
#include <filesystem>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "actors/bridge_guest.hpp"
#include "actors/gcs_bridge.hpp"
#include "actors/layer_controller.hpp"
#include "actors/network_controller.hpp"
#include "actors/scsi_controller.hpp"
#include "actors/share_controller.hpp"
#include "actors/vm_state.hpp"
#include "actors/vpci_controller.hpp"
#include "actors/vpmem_controller.hpp"

namespace uvm {

std::vector<std::pair<const char*, caf::actor>> vm_children::spawned() const {
  std::vector<std::pair<const char*, caf::actor>> out;
  auto add = [&out](const char* name, const auto& child) {
    if (child) {
      out.emplace_back(name, caf::actor_cast<caf::actor>(child));
    }
  };
  add("gcs_bridge", bridge);
  add("scsi", scsi);
  add("vpmem", vpmem);
  add("shares", shares);
  add("network", network);
  add("vpci", vpci);
  add("combined_layers", layers);
  return out;
}

std::vector<std::pair<const char*, caf::actor>> all_children(vm_pointer self) {
  child<&vm_children::scsi>(self);
  child<&vm_children::vpmem>(self);
  child<&vm_children::shares>(self);
  child<&vm_children::network>(self);
  child<&vm_children::vpci>(self);
  child<&vm_children::layers>(self);
  return self->state.children->spawned();
}

vm_devices devices_of(vm_pointer self) {
  all_children(self);
  const auto& c = *self->state.children;
  return {c.scsi, c.vpmem, c.shares, c.network, c.vpci, c.layers, c.bridge};
}

void spawn_children(vm_pointer self) {
  auto& st = self->state;
  const auto& plan = st.plan;
  bridge_context bc;
  bc.vm_id = plan.id;
  bc.external = plan.external_guest_connection;
  // Without an external connection HCS talks to the guest: no agent here.
  bc.guest = "stub";
  if (plan.external_guest_connection) {
    auto own = st.env.backend->guest_connection(plan.id);
    bc.guest = own.empty() ? st.env.guest : own;
  }
  bc.stdio_dir = (std::filesystem::path(st.env.stdio_root) / ("uvm-stdio-" + plan.id)).string();
  bc.rpc_timeout = st.env.bridge_rpc_timeout;
  bc.log = st.env.bridge_log;
  bc.io = st.env.io;
  bc.sweeps = st.env.rpc_sweeps;
  bc.gate = st.life.gate();
  bc.vm = self->address();
  bc.bus = st.env.bus;
  bc.admission = st.admission;
  bc.metrics = st.env.metrics;
  bc.restarts = st.life.restarts();
  st.output_open.insert(st.generation);
  bc.output_done = [addr = self->address(), gen = st.generation] {
    if (auto me = caf::actor_cast<caf::actor>(addr)) {
      caf::send_as(me, me, guest_output_done{gen});
    }
  };
  if (st.spec.lcow) {
    bc.output = st.spec.lcow_options.output;
  }
  bc.guest_log_rate = st.env.guest_log_rate;
  if (bc.guest == "stub") {
    bc.stub = std::make_shared<stub_guest>(plan.id, bc.log);
  }
  auto stub = bc.stub;
  vm_children c;
  c.bridge = spawn_gcs_bridge(self, std::move(bc));
  // The device children's guest steps: the stub answers them itself, a
  // real guest through the bridge child.
  std::shared_ptr<guest_backend> guest = stub;
  if (!guest) {
    guest = std::make_shared<bridge_guest>(self->address(), c.bridge.address());
  }
  c.env = device_env{plan.id,
                     plan.os == "linux",
                     plan.external_guest_connection,
                     st.env.backend,
                     guest,
                     st.life.gate(),
                     st.env.bus,
                     self->address(),
                     st.admission,
                     st.env.metrics};
  // Held children are this system's from now on (calls meanwhile reach
  // them, not fresh ones); restore_children brings them up to date.
  if (st.held) {
    c.scsi = st.held->scsi;
    c.vpmem = st.held->vpmem;
    c.shares = st.held->shares;
    c.network = st.held->network;
    c.vpci = st.held->vpci;
    c.layers = st.held->layers;
    auto me = caf::actor_cast<caf::actor>(self);
    for (auto& [name, child] : st.held->spawned()) {
      caf::send_as(me, child, adopt_system{guest, c.env.gate});
    }
  }
  st.children = std::move(c);
}

void spawn_child(vm_pointer self, scsi_child& out) {
  const auto& plan = self->state.plan;
  scsi_context scsi{self->state.children->env, plan.scsi_controller_count, std::nullopt};
  if (!plan.scratch_disk_path.empty()) {
    scsi_attachment scratch;
    scratch.host_path = plan.scratch_disk_path;
    scsi.scratch = scratch;
  }
  out = spawn_scsi_controller(self, std::move(scsi));
}

void spawn_child(vm_pointer self, vpmem_child& out) {
  const auto& plan = self->state.plan;
  vpmem_context vpmem{self->state.children->env, plan.vpmem_max_count, plan.vpmem_max_size_bytes,
                      std::nullopt, plan.vpmem_multi_mapping};
  if (!plan.vpmem_slot0_key.empty()) {
    vpmem.rootfs_file = plan.vpmem_slot0_key;
  }
  out = spawn_vpmem_controller(self, std::move(vpmem));
}

void spawn_child(vm_pointer self, share_child& out) {
  out = spawn_share_controller(
      self, share_context{self->state.children->env, self->state.env.host.os_build});
}

void spawn_child(vm_pointer self, network_child& out) {
  out = spawn_network_controller(
      self, network_context{self->state.children->env, self->state.env.host.os_build, true});
}

void spawn_child(vm_pointer self, vpci_child& out) {
  out = spawn_vpci_controller(self, self->state.children->env);
}

void spawn_child(vm_pointer self, layer_child& out) {
  out = spawn_layer_controller(self, self->state.children->env);
}

void stop_children(vm_pointer self, const error& why) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  // Held children may also be the current system's: each is told once.
  std::set<caf::actor> told;
  for (auto* set : {&st.children, &st.held}) {
    if (*set) {
      for (auto& [name, child] : (*set)->spawned()) {
        if (told.insert(child).second) {
          caf::send_as(me, child, system_exited{to_caf_error(why)});
        }
      }
      set->reset();
    }
  }
}

void hold_children(vm_pointer self, const error& why) {
  auto& st = self->state;
  if (!st.children) {
    return;
  }
  auto me = caf::actor_cast<caf::actor>(self);
  auto& c = *st.children;
  if (c.bridge) {
    caf::send_as(me, c.bridge, system_exited{to_caf_error(why)});
    c.bridge = nullptr;
  }
  auto devices = c.spawned();
  for (auto& [name, child] : devices) {
    caf::send_as(me, child, system_exited{to_caf_error(why), true});
  }
  if (!devices.empty()) {
    st.held = std::move(c);
  }
  st.children.reset();
}

namespace {

void restore_from(vm_pointer self, std::vector<std::pair<const char*, caf::actor>> order,
                  size_t next, std::function<void(const error&)> done) {
  if (next == order.size()) {
    done({});
    return;
  }
  // Each re-attach has the bridge's and HCS's own deadlines; this one only
  // bounds a child that stopped answering.
  self->request(order[next].second, std::chrono::minutes(5), restore_devices{})
      .then([self, order, next, done](caf::ok_atom) { restore_from(self, order, next + 1, done); },
            [done](caf::error& e) { done(from_caf_error(e)); });
}

} // namespace

void restore_children(vm_pointer self, std::function<void(const error&)> done) {
  auto& st = self->state;
  if (!st.held || !st.children) {
    done({});
    return;
  }
  auto order = st.held->spawned();
  st.held.reset();
  restore_from(self, std::move(order), 0, std::move(done));
}

void release_calls(vm_pointer self) {
  auto& st = self->state;
  if (!st.life.hold_calls(false) || !st.children) {
    return;
  }
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& [name, child] : st.children->spawned()) {
    caf::send_as(me, child, calls_released{});
  }
}

caf::result<std::string> children_view(vm_pointer self) {
  auto children =
      self->state.children ? all_children(self) : std::vector<std::pair<const char*, caf::actor>>{};
  if (children.empty()) {
    return std::string{"{}"};
  }
  auto rp = self->make_response_promise<std::string>();
  auto view = std::make_shared<nlohmann::json>(nlohmann::json::object());
  auto left = std::make_shared<size_t>(children.size());
  for (auto& [child_name, child] : children) {
    std::string name = child_name;
    self->request(child, std::chrono::seconds(10), view_atom_v)
        .then(
            [rp, view, left, name](const std::string& part) mutable {
              (*view)[name] = nlohmann::json::parse(part);
              if (--*left == 0) {
                rp.deliver(view->dump());
              }
            },
            [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  }
  return rp;
}

} // namespace uvm
