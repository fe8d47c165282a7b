#include "actors/scsi_controller.hpp"

#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "actors/core/hcs_errors.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/vm_lifecycle.hpp"
#include "actors/device_modify.hpp"
#include "actors/event_bus.hpp"
#include "hcs/device_requests.hpp"

namespace uvm {

namespace {

using mount_promise = caf::typed_response_promise<scsi_mount>;
using ok_promise = caf::typed_response_promise<caf::ok_atom>;

struct parked_add {
  scsi_add_request req;
  mount_promise rp;
};

struct parked_remove {
  std::string activity;
  ok_promise rp;
};

struct scsi_controller_state {
  scsi_context ctx;
  std::optional<scsi_slot_table> table;
  // Per host path: the callers of an attach in flight (the first caller and
  // every waiter), the caller of a detach in flight, and the calls parked
  // until that detach is over.
  std::map<std::string, std::vector<mount_promise>> attaching;
  std::map<std::string, ok_promise> detaching;
  std::map<std::string, std::vector<parked_add>> parked_adds;
  std::map<std::string, std::vector<parked_remove>> parked_removes;
  // Host adds being undone: the request that undoes it, and what follows.
  std::map<std::string, std::pair<std::string, std::function<void()>>> rollbacks;
  std::unordered_map<uint64_t, std::function<void(hcs::call_result)>> calls;
  uint64_t next_call = 0;
  // The VM's state as the VM last reported it: callers that send here
  // directly get the VM's error when it is not running.
  lifecycle_state vm_state = lifecycle_state::created;
  static inline const char* name = "uvm_scsi";
};

using scsi_pointer = scsi_actor::stateful_pointer<scsi_controller_state>;

// A failed rollback is retried after this, doubling up to the maximum.
constexpr auto rollback_retry_first = std::chrono::milliseconds(10);
constexpr auto rollback_retry_max = std::chrono::seconds(5);

scsi_mount mount_of(const scsi_attachment& a) {
  return {a.host_path, a.uvm_path, a.slot.controller, static_cast<int32_t>(a.slot.lun),
          a.read_only};
}

hcs::scsi_disk disk_of(const scsi_attachment& a) {
  return {a.slot.controller, a.slot.lun, a.host_path, a.uvm_path, a.type, a.read_only};
}

std::string slot_name(const scsi_attachment& a) {
  return std::to_string(a.slot.controller) + ":" + std::to_string(a.slot.lun);
}

template <class T>
T take(std::map<std::string, T>& m, const std::string& key) {
  auto node = m.extract(key);
  return node.empty() ? T{} : std::move(node.mapped());
}

// `done` may run before modify returns (a completion inside the call):
// callers make it their last step.
void modify(scsi_pointer self, std::string request, std::function<void(hcs::call_result)> done) {
  auto id = self->state.next_call++;
  self->state.calls.emplace(id, std::move(done));
  if (auto r = modify_backend(*self->state.ctx.backend, self->state.ctx.vm_id, std::move(request),
                              self->address(), id)) {
    auto node = self->state.calls.extract(id);
    node.mapped()(std::move(*r));
  }
}

// `done` may run before guest_modify returns (the stub answers inside the
// call): callers make it their last step.
void guest_modify(scsi_pointer self, const std::string& guest, const std::string& activity,
                  std::function<void(const error&)> done) {
  if (self->state.ctx.stub) {
    done(self->state.ctx.stub->modify_settings(guest, activity));
    return;
  }
  // No deadline here: the bridge child answers or ends (which fails the
  // request), RPC deadlines belong to the bridge, and a timeout would cost
  // a wakeup of CAF's clock thread per request.
  self->request(self->state.ctx.bridge, caf::infinite, guest_modify_atom_v, guest, activity)
      .then([done](caf::ok_atom) { done({}); }, [done](caf::error& e) { done(from_caf_error(e)); });
}

void publish(scsi_pointer self, const std::string& activity, const char* action,
             const scsi_attachment& a) {
  const auto& ctx = self->state.ctx;
  publish_event(ctx.bus, [&] {
    return device_event{ctx.vm_id, activity, "scsi", action, a.host_path, slot_name(a)};
  });
}

void handle_add(scsi_pointer self, scsi_add_request req, mount_promise rp);
void handle_remove(scsi_pointer self, const std::string& host_path, const std::string& activity,
                   ok_promise rp);

// A detach is over: what waited for it asks again.
void retry_parked(scsi_pointer self, const std::string& path) {
  for (auto& p : take(self->state.parked_adds, path)) {
    handle_add(self, std::move(p.req), std::move(p.rp));
  }
  for (auto& p : take(self->state.parked_removes, path)) {
    handle_remove(self, path, p.activity, std::move(p.rp));
  }
}

void finish_attach(scsi_pointer self, const std::string& path, const std::string& activity,
                   const error& e) {
  auto callers = take(self->state.attaching, path);
  auto& table = *self->state.table;
  if (e) {
    table.attach_failed(path);
    logging::warn({self->state.ctx.vm_id, activity}, "SCSI attach failed",
                  {{"host_path", path}, {"error", e.text}});
    for (auto& rp : callers) {
      rp.deliver(to_caf_error(e));
    }
    return;
  }
  table.attach_succeeded(path);
  auto a = table.find(path);
  publish(self, activity, "added", *a);
  for (auto& rp : callers) {
    rp.deliver(mount_of(*a));
  }
}

void attempt_rollback(scsi_pointer self, const std::string& path, uint32_t attempt) {
  auto i = self->state.rollbacks.find(path);
  if (i == self->state.rollbacks.end()) {
    return;
  }
  modify(self, i->second.first, [self, path, attempt](hcs::call_result r) {
    if (r.ok()) {
      auto done = take(self->state.rollbacks, path).second;
      done();
      return;
    }
    logging::warn({self->state.ctx.vm_id, {}}, "failed to roll back resource add",
                  {{"host_path", path}, {"attempt", attempt + 1}, {"error", r.message}});
    auto delay = rollback_retry_first * (1u << std::min(attempt, 9u));
    self->delayed_send(self, std::min<caf::timespan>(delay, rollback_retry_max), rollback_atom_v,
                       path, attempt + 1);
  });
}

// Undoes a host add whose guest step failed. The slot stays taken (and its
// callers wait) until HCS has let go of the disk: the engine's view and the
// host's never disagree.
void roll_back(scsi_pointer self, const std::string& path, std::string undo,
               std::function<void()> done) {
  self->state.rollbacks[path] = {std::move(undo), std::move(done)};
  attempt_rollback(self, path, 0);
}

// What the steps of one attach share (see detach_job).
struct attach_job {
  std::string path;
  std::string activity;
  std::string vm_id;
  std::string host; // the host part of the add
};

void fail_attach(scsi_pointer self, const attach_job& job, const error& e) {
  finish_attach(self, job.path, job.activity, wrap("failed to modify UVM with new SCSI mount", e));
}

void run_attach(scsi_pointer self, const scsi_attachment& a, const std::string& activity) {
  const auto& ctx = self->state.ctx;
  auto req = hcs::scsi_add(ctx.lcow ? hcs::guest_os::lcow : hcs::guest_os::wcow, disk_of(a));
  // Without a guest step, or when HCS forwards it, one modify does it all.
  if (!req.guest || !ctx.external_guest) {
    auto body = hcs::combined_request(req);
    auto job =
        std::make_shared<const attach_job>(attach_job{a.host_path, activity, ctx.vm_id, body});
    modify(self, std::move(body), [self, job](hcs::call_result r) {
      if (!r.ok()) {
        fail_attach(self, *job, hcs_error("System::Modify", job->vm_id, r, job->host));
        return;
      }
      finish_attach(self, job->path, job->activity, {});
    });
    return;
  }
  auto guest = std::move(*req.guest);
  auto job = std::make_shared<const attach_job>(
      attach_job{a.host_path, activity, ctx.vm_id, std::move(*req.host)});
  modify(self, job->host, [self, job, guest = std::move(guest)](hcs::call_result r) {
    if (!r.ok()) {
      fail_attach(
          self, *job,
          wrap("adding VM resources", hcs_error("System::Modify", job->vm_id, r, job->host)));
      return;
    }
    guest_modify(self, guest, job->activity, [self, job](const error& ge) {
      if (!ge) {
        finish_attach(self, job->path, job->activity, {});
        return;
      }
      roll_back(self, job->path, hcs::host_undo(job->host),
                [self, job, ge] { fail_attach(self, *job, wrap("guest modify", ge)); });
    });
  });
}

void finish_detach(scsi_pointer self, const std::string& path, const std::string& activity,
                   const scsi_attachment& a, const error& e) {
  auto rp = take(self->state.detaching, path);
  auto& table = *self->state.table;
  if (e) {
    table.detach_failed(path);
    rp.deliver(to_caf_error(wrap(
        "failed to remove SCSI disk " + path + " from container " + self->state.ctx.vm_id, e)));
  } else {
    table.detach_succeeded(path);
    publish(self, activity, "removed", a);
    rp.deliver(caf::ok_atom_v);
  }
  retry_parked(self, path);
}

// What the steps of one detach share; the continuations hold it by pointer
// instead of each copying the attachment and the request texts.
struct detach_job {
  scsi_attachment a;
  std::string activity;
  std::string vm_id;
  hcs::guest_os os;
  std::string host; // the host part of the removal
  bool guest_step;
};

void detach_host(scsi_pointer self, std::shared_ptr<const detach_job> job) {
  modify(self, job->host, [self, job](hcs::call_result r) {
    const auto& path = job->a.host_path;
    if (r.ok()) {
      finish_detach(self, path, job->activity, job->a, {});
      return;
    }
    auto e = wrap("removing VM resources", hcs_error("System::Modify", job->vm_id, r, job->host));
    auto remount = hcs::scsi_add(job->os, disk_of(job->a));
    if (!job->guest_step || !remount.guest) {
      finish_detach(self, path, job->activity, job->a, e);
      return;
    }
    // The disk stays attached: mount it in the guest again, so that the
    // guest agrees with the table (the seed left it unmounted).
    guest_modify(self, *remount.guest, job->activity, [self, job, e](const error& ge) {
      if (ge) {
        logging::error({job->vm_id, job->activity},
                       "failed to mount the disk again after a failed removal",
                       {{"host_path", job->a.host_path}, {"error", ge.text}});
      }
      finish_detach(self, job->a.host_path, job->activity, job->a, e);
    });
  });
}

// Guest first (the guest unmounts and lets go of the disk), then the host.
void run_detach(scsi_pointer self, const scsi_attachment& a, const std::string& activity) {
  const auto& ctx = self->state.ctx;
  auto os = ctx.lcow ? hcs::guest_os::lcow : hcs::guest_os::wcow;
  auto req = hcs::scsi_remove(os, disk_of(a));
  if (!ctx.external_guest) {
    auto body = hcs::combined_request(req);
    auto path = a.host_path;
    auto vm_id = ctx.vm_id;
    modify(self, body, [=](hcs::call_result r) {
      finish_detach(self, path, activity, a,
                    r.ok() ? error{} : hcs_error("System::Modify", vm_id, r, body));
    });
    return;
  }
  auto job = std::make_shared<const detach_job>(
      detach_job{a, activity, ctx.vm_id, os, std::move(*req.host), req.guest.has_value()});
  if (!req.guest) {
    detach_host(self, std::move(job));
    return;
  }
  guest_modify(self, *req.guest, activity, [self, job](const error& ge) {
    if (ge) {
      finish_detach(self, job->a.host_path, job->activity, job->a, wrap("guest modify", ge));
      return;
    }
    detach_host(self, job);
  });
}

void handle_add(scsi_pointer self, scsi_add_request req, mount_promise rp) {
  auto path = req.host_path;
  auto d = self->state.table->begin_add(path, req.uvm_path, req.read_only,
                                        req.physical ? "PassThru" : "VirtualDisk");
  if (!d) {
    rp.deliver(to_caf_error(d.err()));
    return;
  }
  switch (d->action) {
  case scsi_add_decision::shared:
    rp.deliver(mount_of(d->attachment));
    break;
  case scsi_add_decision::wait_attach:
    self->state.attaching[path].push_back(std::move(rp));
    break;
  case scsi_add_decision::wait_detach:
    self->state.parked_adds[path].push_back({std::move(req), std::move(rp)});
    break;
  case scsi_add_decision::attach:
    self->state.attaching[path].push_back(std::move(rp));
    run_attach(self, d->attachment, req.activity_id);
    break;
  }
}

void handle_remove(scsi_pointer self, const std::string& host_path, const std::string& activity,
                   ok_promise rp) {
  auto d = self->state.table->begin_remove(host_path);
  if (!d) {
    rp.deliver(to_caf_error(d.err()));
    return;
  }
  switch (d->action) {
  case scsi_remove_decision::released:
    rp.deliver(caf::ok_atom_v);
    break;
  case scsi_remove_decision::wait_detach:
    self->state.parked_removes[host_path].push_back({activity, std::move(rp)});
    break;
  case scsi_remove_decision::detach:
    self->state.detaching.emplace(host_path, std::move(rp));
    run_detach(self, d->attachment, activity);
    break;
  }
}

caf::error check_running(scsi_pointer self, const char* what) {
  const auto& st = self->state;
  if (st.vm_state == lifecycle_state::running) {
    return {};
  }
  return to_caf_error(state_error(st.ctx.vm_id, st.vm_state, what));
}

// The VM is gone: every caller still waiting learns why.
void fail_everything(scsi_pointer self, const caf::error& why) {
  auto& st = self->state;
  for (auto& [path, callers] : st.attaching) {
    for (auto& rp : callers) {
      rp.deliver(why);
    }
  }
  for (auto& [path, rp] : st.detaching) {
    rp.deliver(why);
  }
  for (auto& [path, parked] : st.parked_adds) {
    for (auto& p : parked) {
      p.rp.deliver(why);
    }
  }
  for (auto& [path, parked] : st.parked_removes) {
    for (auto& p : parked) {
      p.rp.deliver(why);
    }
  }
  st.attaching.clear();
  st.detaching.clear();
  st.parked_adds.clear();
  st.parked_removes.clear();
  st.rollbacks.clear();
  st.calls.clear();
}

scsi_actor::behavior_type scsi_controller(scsi_pointer self, scsi_context ctx) {
  self->state.table.emplace(ctx.controllers, ctx.scratch);
  self->state.ctx = std::move(ctx);
  return {
      [=](add_scsi_atom, scsi_add_request& req) -> caf::result<scsi_mount> {
        if (auto e = check_running(self, scsi_call::add)) {
          return e;
        }
        auto rp = self->make_response_promise<scsi_mount>();
        handle_add(self, std::move(req), rp);
        return rp;
      },
      [=](remove_scsi_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        if (auto e = check_running(self, scsi_call::remove)) {
          return e;
        }
        auto rp = self->make_response_promise<caf::ok_atom>();
        handle_remove(self, host_path, activity, rp);
        return rp;
      },
      [=](scsi_path_atom, const std::string& host_path) -> caf::result<std::string> {
        if (auto e = check_running(self, scsi_call::path)) {
          return e;
        }
        auto a = self->state.table->find(host_path);
        if (!a) {
          return to_caf_error(a.err());
        }
        return a->uvm_path;
      },
      [=](view_atom) -> std::string { return self->state.table->to_json().dump(); },
      [=](vm_state_atom, lifecycle_state state) { self->state.vm_state = state; },
      [=](vm_exit_atom, const caf::error& why) {
        fail_everything(self, why);
        self->quit();
      },
      [=](hcs_done_atom, uint64_t id, hcs::call_result& r) {
        auto node = self->state.calls.extract(id);
        if (!node.empty()) {
          node.mapped()(std::move(r));
        }
      },
      [=](rollback_atom, const std::string& path, uint32_t attempt) {
        attempt_rollback(self, path, attempt);
      },
  };
}

} // namespace

scsi_actor spawn_scsi_controller(caf::local_actor* parent, scsi_context ctx) {
  return parent->spawn<caf::linked>(scsi_controller, std::move(ctx));
}

} // namespace uvm
