#include "actors/scsi_controller.hpp"

#include <map>
#include <set>
#include <utility>

#include "actors/core/hcs_errors.hpp"
#include "actors/core/key_waits.hpp"
#include "actors/core/logging.hpp"

namespace uvm {

namespace {

struct scsi_state {
  std::optional<device_child> child;
  std::optional<scsi_slot_table> table;
  key_waits waits;
  std::string scratch_path; // WCOW's, in the create document: not hot-added
  // The access granted for each disk ({type, read-only}, as asked), given
  // again to a restarted VM's new system.
  std::map<std::string, std::set<std::pair<vm_access_type, bool>>> grants;
  static inline const char* name = "uvm_scsi";
};

using scsi_pointer = scsi_child::stateful_pointer<scsi_state>;
using mount_reply = caller_reply<scsi_mount, scsi_pointer>;
using ok_reply = caller_reply<caf::ok_atom, scsi_pointer>;

scsi_mount mount_of(const scsi_attachment& a) {
  return {a.host_path, a.uvm_path, a.slot.controller, static_cast<int32_t>(a.slot.lun),
          a.read_only};
}

// The decision's copy of the attachment becomes the disk the requests
// describe.
hcs::scsi_disk disk_of(scsi_attachment&& a) {
  return {a.slot.controller,     a.slot.lun,        std::move(a.host_path),
          std::move(a.uvm_path), std::move(a.type), a.read_only};
}

hcs::guest_os os_of(scsi_pointer self) {
  return self->state.child->env().lcow ? hcs::guest_os::lcow : hcs::guest_os::wcow;
}

void publish(scsi_pointer self, const std::string& activity, const char* action,
             const hcs::scsi_disk& disk) {
  publish_device(self, activity, "scsi", action, disk.host_path,
                 [&] { return std::to_string(disk.controller) + ":" + std::to_string(disk.lun); });
}

// The outcome of an attach, for its first caller or a waiter.
void answer_add(scsi_pointer self, const std::string& host_path, const error& e,
                const mount_reply& reply) {
  if (e) {
    reply(wrap("failed to modify UVM with new SCSI mount", e));
    return;
  }
  if (const auto* a = self->state.table->attached(host_path)) {
    reply(mount_of(*a));
    return;
  }
  reply(self->state.table->find(host_path).err());
}

// What the continuations of one attach or detach need, shared instead of
// copied into each.
struct scsi_job {
  hcs::scsi_disk disk;
  std::string activity;
};

// A disk this VM no longer references loses the access granted for it.
void release_if_unused(scsi_pointer self, const std::string& host_path,
                       const std::string& activity) {
  auto& st = self->state;
  if (st.table->attached(host_path) != nullptr) {
    return;
  }
  const auto& env = st.child->env();
  st.grants.erase(host_path);
  auto why = env.backend->release_vm_access(env.vm_id, host_path);
  if (!why.empty()) {
    logging::warn({env.vm_id, activity}, "VM access not revoked",
                  {{"host_path", host_path}, {"error", why}});
  }
}

void handle_add(scsi_pointer self, scsi_add_request req, mount_reply reply) {
  auto& st = self->state;
  const auto& path = req.host_path;
  // §7.1: on every add, before the table is consulted; a physical disk is
  // always granted to this VM alone.
  const auto& env = st.child->env();
  auto access = req.physical ? vm_access_type::individual : req.vm_access;
  auto why = env.backend->grant_vm_access(env.vm_id, path, access, req.read_only);
  if (!why.empty()) {
    reply(error{errc::io_failure, "failed to grant VM access for SCSI mount: " + why});
    return;
  }
  if (access != vm_access_type::noop) {
    st.grants[path].emplace(access, req.read_only);
  }
  auto d = st.table->begin_add(path, req.uvm_path, req.read_only,
                               req.physical ? "PassThru" : "VirtualDisk");
  if (!d) {
    release_if_unused(self, path, req.activity_id);
    reply(d.err());
    return;
  }
  switch (d->action) {
  case scsi_add_decision::shared:
    reply(mount_of(d->attachment));
    return;
  case scsi_add_decision::wait_attach:
    st.waits.join(path, [self, path = req.host_path, reply](const error& e) {
      answer_add(self, path, e, reply);
    });
    return;
  case scsi_add_decision::wait_detach:
    st.waits.park(path, [self, req, reply] { handle_add(self, req, reply); });
    return;
  case scsi_add_decision::attach:
    break;
  }
  // The first caller hears the outcome from the attach itself, waiters
  // that joined meanwhile through the waits.
  auto job = std::make_shared<const scsi_job>(
      scsi_job{disk_of(std::move(d->attachment)), std::move(req.activity_id)});
  st.child->steps().add(hcs::scsi_add(os_of(self), job->disk), job->activity,
                        [self, job, reply = std::move(reply)](const error& e) {
                          auto& st = self->state;
                          const auto& disk = job->disk;
                          if (e) {
                            st.table->attach_failed(disk.host_path);
                            logging::warn({st.child->env().vm_id, job->activity},
                                          "SCSI attach failed",
                                          {{"host_path", disk.host_path}, {"error", e.text}});
                          } else {
                            st.table->attach_succeeded(disk.host_path);
                            publish(self, job->activity, "added", disk);
                          }
                          if (e) {
                            release_if_unused(self, disk.host_path, job->activity);
                          }
                          answer_add(self, disk.host_path, e, reply);
                          st.waits.settle(disk.host_path, e);
                        });
}

// Guest first (the guest unmounts and lets go of the disk), then the host;
// when the host step fails the disk stays attached and the guest mounts it
// again, so that the guest agrees with the table (the seed left it
// unmounted).
void handle_remove(scsi_pointer self, const std::string& host_path, const std::string& activity,
                   ok_reply reply) {
  auto& st = self->state;
  auto d = st.table->begin_remove(host_path);
  if (!d) {
    reply(d.err());
    return;
  }
  switch (d->action) {
  case scsi_remove_decision::released:
    reply({});
    return;
  case scsi_remove_decision::wait_detach:
    st.waits.park(host_path, [=] { handle_remove(self, host_path, activity, reply); });
    return;
  case scsi_remove_decision::detach:
    break;
  }
  auto job =
      std::make_shared<const scsi_job>(scsi_job{disk_of(std::move(d->attachment)), activity});
  auto os = os_of(self);
  st.child->steps().remove(
      hcs::scsi_remove(os, job->disk), [os, job] { return hcs::scsi_add(os, job->disk).guest; },
      activity,
      [self, job, reply = std::move(reply)](const error& e) {
        auto& st = self->state;
        const auto& disk = job->disk;
        if (e) {
          st.table->detach_failed(disk.host_path);
          reply(wrap("failed to remove SCSI disk " + disk.host_path + " from container " +
                         st.child->env().vm_id,
                     e));
        } else {
          st.table->detach_succeeded(disk.host_path);
          publish(self, job->activity, "removed", disk);
          release_if_unused(self, disk.host_path, job->activity);
          reply({});
        }
        st.waits.retry(disk.host_path);
      });
}

// The VM exited with attaches or detaches in flight: they failed.
void settle(scsi_pointer self) {
  auto& table = *self->state.table;
  for (const auto& a : table.entries()) {
    if (a.state == uvm::scsi_state::attaching) {
      table.attach_failed(a.host_path);
      release_if_unused(self, a.host_path, "");
    } else if (a.state == uvm::scsi_state::detaching) {
      table.detach_failed(a.host_path);
    }
  }
}

// Every attached disk at its controller/LUN, in slot order.
std::vector<restore_step> restore(scsi_pointer self) {
  std::vector<restore_step> out;
  for (auto a : self->state.table->entries()) {
    if (a.state != uvm::scsi_state::attached || a.host_path == self->state.scratch_path) {
      continue;
    }
    auto what = "SCSI disk " + a.host_path + " at " + std::to_string(a.slot.controller) + ":" +
                std::to_string(a.slot.lun);
    auto path = a.host_path;
    auto request = hcs::scsi_add(os_of(self), disk_of(std::move(a)));
    out.push_back(
        {std::move(what), [self, path, request](device_steps::done_fn done) {
           // The new system's VM may be another principal.
           const auto& env = self->state.child->env();
           if (auto g = self->state.grants.find(path); g != self->state.grants.end()) {
             for (const auto& [access, read_only] : g->second) {
               auto why = env.backend->grant_vm_access(env.vm_id, path, access, read_only);
               if (!why.empty()) {
                 done(error{errc::io_failure, "failed to grant VM access for SCSI mount: " + why});
                 return;
               }
             }
           }
           self->state.child->steps().add(request, "", std::move(done));
         }});
  }
  return out;
}

scsi_child::behavior_type scsi_controller(scsi_pointer self, scsi_context ctx) {
  if (ctx.scratch) {
    self->state.scratch_path = ctx.scratch->host_path;
  }
  self->state.table.emplace(ctx.controllers, ctx.scratch);
  self->state.child.emplace(self, std::move(ctx.env));
  return device_behavior<scsi_child::behavior_type>(
      self, [=] { return self->state.table->to_json().dump(); }, [=] { self->state.waits.clear(); },
      [=] { settle(self); }, [=] { return restore(self); },
      [=](add_scsi_atom, scsi_add_request& req) -> caf::result<scsi_mount> {
        return serve<scsi_mount, add_scsi_atom>(
            self, [&](mount_reply reply) { handle_add(self, std::move(req), std::move(reply)); });
      },
      [=](remove_scsi_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_scsi_atom>(self, [&](ok_reply reply) {
          handle_remove(self, host_path, activity, std::move(reply));
        });
      },
      [=](scsi_path_atom, const std::string& host_path) -> caf::result<std::string> {
        return lookup<std::string, scsi_path_atom>(self, [&]() -> result<std::string> {
          auto a = self->state.table->find(host_path);
          if (!a) {
            return a.err();
          }
          return a->uvm_path;
        });
      });
}

} // namespace

scsi_child spawn_scsi_controller(caf::local_actor* parent, scsi_context ctx) {
  return parent->spawn<caf::linked>(scsi_controller, std::move(ctx));
}

} // namespace uvm
