#include "actors/vpmem_controller.hpp"

#include <algorithm>
#include <set>

#include "actors/core/host_files.hpp"
#include "actors/core/key_waits.hpp"
#include "actors/core/vpmem_table.hpp"

namespace uvm {

namespace {

struct vpmem_state {
  std::optional<device_child> child;
  std::optional<vpmem_table> table;
  key_waits waits;
  static inline const char* name = "uvm_vpmem";
};

using vpmem_pointer = vpmem_child::stateful_pointer<vpmem_state>;
using path_reply = std::function<void(result<std::string>)>;
using ok_reply = std::function<void(const error&)>;

void handle_remove(vpmem_pointer self, const std::string& host_path, const std::string& activity,
                   ok_reply reply);

// The device, and for a packed layer its offset: "<n>" or "<n>@<offset>".
std::string where(const vpmem_device& d) {
  auto n = std::to_string(d.device_number);
  return d.packed ? n + "@" + std::to_string(d.offset) : n;
}

hcs::vpmem_packed_layer packed_layer(const vpmem_device& d) {
  return {d.device_number, d.offset, d.size_bytes, d.host_path, d.uvm_path};
}

// The outcome of an attach, for its first caller or a waiter.
void answer_add(vpmem_pointer self, const std::string& host_path, const error& e,
                const path_reply& reply) {
  if (e) {
    reply(wrap("uvm::AddVPMEM: failed to modify utility VM configuration", e));
    return;
  }
  auto device = self->state.table->find(host_path);
  reply(device ? result<std::string>{device->uvm_path} : result<std::string>{device.err()});
}

void handle_add(vpmem_pointer self, const std::string& host_path, const std::string& activity,
                path_reply reply) {
  auto& st = self->state;
  if (!st.child->env().lcow) {
    reply(error{errc::not_supported});
    return;
  }
  uint64_t size = 0;
  if (!st.table->contains(host_path)) {
    auto info = stat_host_path(host_path);
    if (!info) {
      reply(info.err());
      return;
    }
    size = info->size_bytes;
  }
  auto d = st.table->begin_add(host_path, size);
  if (!d) {
    reply(d.err());
    return;
  }
  switch (d->action) {
  case vpmem_add_decision::shared:
    reply(d->device.uvm_path);
    return;
  case vpmem_add_decision::wait_attach:
    st.waits.join(host_path, [self, host_path, reply](const error& e) {
      answer_add(self, host_path, e, reply);
    });
    return;
  case vpmem_add_decision::wait_detach:
    st.waits.park(host_path, [=] { handle_add(self, host_path, activity, reply); });
    return;
  case vpmem_add_decision::attach:
    break;
  }
  auto device = d->device;
  st.waits.join(host_path, [self, host_path, reply](const error& e) {
    answer_add(self, host_path, e, reply);
  });
  auto req = device.packed ? hcs::vpmem_map(packed_layer(device), d->new_device)
                           : hcs::vpmem_add(device.device_number, host_path, device.uvm_path);
  self->state.child->steps().add(req, activity, [self, device, activity](const error& e) {
    auto& st = self->state;
    if (e) {
      st.table->attach_failed(device.host_path);
    } else {
      st.table->attach_succeeded(device.host_path);
      publish_device(self, activity, "vpmem", "added", device.host_path, where(device));
    }
    st.waits.settle(device.host_path, e);
  });
}

void handle_remove(vpmem_pointer self, const std::string& host_path, const std::string& activity,
                   ok_reply reply) {
  auto& st = self->state;
  if (!st.child->env().lcow) {
    reply(error{errc::not_supported});
    return;
  }
  auto d = st.table->begin_remove(host_path);
  if (!d) {
    reply(d.err());
    return;
  }
  switch (d->action) {
  case vpmem_remove_decision::released:
    reply({});
    return;
  case vpmem_remove_decision::wait_detach:
    st.waits.park(host_path, [=] { handle_remove(self, host_path, activity, reply); });
    return;
  case vpmem_remove_decision::detach:
    break;
  }
  auto device = d->device;
  auto req = device.packed ? hcs::vpmem_unmap(packed_layer(device), d->last_on_device)
                           : hcs::vpmem_remove(device.device_number, device.uvm_path);
  auto restore = [device] {
    return device.packed
               ? hcs::vpmem_map(packed_layer(device), false).guest
               : hcs::vpmem_add(device.device_number, device.host_path, device.uvm_path).guest;
  };
  self->state.child->steps().remove(
      req, restore, activity, [self, device, activity, reply](const error& e) {
        auto& st = self->state;
        if (e) {
          st.table->detach_failed(device.host_path);
          reply(wrap("failed to remove VPMEM " + device.host_path + " from utility VM " +
                         st.child->env().vm_id,
                     e));
        } else {
          st.table->detach_succeeded(device.host_path);
          publish_device(self, activity, "vpmem", "removed", device.host_path, where(device));
          reply({});
        }
        st.waits.retry(device.host_path);
      });
}

// The VM exited with attaches or detaches in flight: they failed.
void settle(vpmem_pointer self) {
  auto& table = *self->state.table;
  for (const auto& d : table.entries()) {
    if (d.state == uvm::vpmem_state::attaching) {
      table.attach_failed(d.host_path);
    } else if (d.state == uvm::vpmem_state::detaching) {
      table.detach_failed(d.host_path);
    }
  }
}

// Every attached layer on its device number; the VHD root file system
// ("/") is in the create document.
std::vector<restore_step> restore(vpmem_pointer self) {
  auto layers = self->state.table->entries();
  // Packed layers by device, then offset: the first one creates the device.
  std::stable_sort(layers.begin(), layers.end(), [](const vpmem_device& a, const vpmem_device& b) {
    return a.device_number != b.device_number ? a.device_number < b.device_number
                                              : a.offset < b.offset;
  });
  std::vector<restore_step> out;
  std::set<uint32_t> created;
  for (const auto& d : layers) {
    if (d.state != uvm::vpmem_state::attached || d.uvm_path == "/") {
      continue;
    }
    auto what = "VPMEM device " + where(d) + " (" + d.host_path + ")";
    if (!d.packed) {
      out.push_back(restore_add(self, std::move(what),
                                hcs::vpmem_add(d.device_number, d.host_path, d.uvm_path)));
      continue;
    }
    bool first = created.insert(d.device_number).second;
    if (first && d.offset != 0) {
      // The device was made with a layer that is gone: its other layers
      // sit at offsets no new device reproduces.
      out.push_back({std::move(what), [](device_steps::done_fn done) {
                       done(error{errc::not_supported,
                                  "the device's first layer was removed; a packed device "
                                  "cannot be made again without it"});
                     }});
      continue;
    }
    out.push_back(restore_add(self, std::move(what), hcs::vpmem_map(packed_layer(d), first)));
  }
  return out;
}

vpmem_child::behavior_type vpmem_controller(vpmem_pointer self, vpmem_context ctx) {
  self->state.table.emplace(ctx.max_count, ctx.max_size_bytes, ctx.rootfs_file, ctx.packed);
  self->state.child.emplace(self, std::move(ctx.env));
  return device_behavior<vpmem_child::behavior_type>(
      self,
      [=] {
        auto& t = *self->state.table;
        nlohmann::json view = {{"max_count", t.max_count()},
                               {"max_size_bytes", t.max_size_bytes()},
                               {"devices", t.to_json()}};
        if (t.packed()) {
          view["multi_mapping"] = true;
        }
        return view.dump();
      },
      [=] { self->state.waits.clear(); }, [=] { settle(self); }, [=] { return restore(self); },
      [=](add_vpmem_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<std::string> {
        return serve<std::string, add_vpmem_atom>(
            self, [&](auto reply) { handle_add(self, host_path, activity, reply); });
      },
      [=](remove_vpmem_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_vpmem_atom>(
            self, [&](auto reply) { handle_remove(self, host_path, activity, reply); });
      });
}

} // namespace

vpmem_child spawn_vpmem_controller(caf::local_actor* parent, vpmem_context ctx) {
  return parent->spawn<caf::linked>(vpmem_controller, std::move(ctx));
}

} // namespace uvm
