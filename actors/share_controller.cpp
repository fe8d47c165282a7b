#include "actors/share_controller.hpp"

#include <set>

#include "actors/core/host_files.hpp"
#include "actors/core/key_waits.hpp"
#include "actors/core/plan9_table.hpp"
#include "actors/core/vsmb_share_table.hpp"

namespace uvm {

namespace {

constexpr uint32_t single_file_plan9_build = 18362;

struct share_state {
  std::optional<device_child> child;
  uint32_t host_build = 0;
  std::optional<vsmb_share_table> vsmb;
  plan9_table plan9;
  std::multiset<std::string> pipes;
  // VSMB waits are keyed "v:<name>", Plan9 waits "p:<name>".
  key_waits waits;
  static inline const char* name = "uvm_shares";
};

using share_pointer = share_child::stateful_pointer<share_state>;
using ok_reply = std::function<void(const error&)>;
using vsmb_reply = std::function<void(result<vsmb_share_handle>)>;
using plan9_reply = std::function<void(result<plan9_share_handle>)>;

bool lcow(share_pointer self) {
  return self->state.child->env().lcow;
}

const std::string& vm_id(share_pointer self) {
  return self->state.child->env().vm_id;
}

// --- VSMB ---

vsmb_share_handle handle_of(const vsmb_share& share, const std::string& host_path) {
  return {host_path, share.name, share.guest_path};
}

void add_vsmb(share_pointer self, vsmb_add_request req, vsmb_reply reply);

// The share's outcome for an adder that waited on it.
void answer_vsmb(share_pointer self, const std::string& name, const std::string& host_path,
                 const error& e, const vsmb_reply& reply) {
  if (e) {
    reply(e);
    return;
  }
  for (const auto& share : self->state.vsmb->entries()) {
    if (share.name == name) {
      reply(handle_of(share, host_path));
      return;
    }
  }
  reply(error{errc::not_attached});
}

void add_vsmb(share_pointer self, vsmb_add_request req, vsmb_reply reply) {
  auto& st = self->state;
  if (lcow(self)) {
    reply(error{errc::not_supported});
    return;
  }
  auto info = stat_host_path(req.host_path);
  if (!info) {
    reply(info.err());
    return;
  }
  auto d = st.vsmb->begin_add(req.host_path, !info->is_directory, req.options);
  auto key = "v:" + d.share.name;
  auto name = d.share.name;
  auto host_path = req.host_path;
  switch (d.action) {
  case vsmb_add_decision::shared:
    reply(handle_of(d.share, host_path));
    return;
  case vsmb_add_decision::wait_attach:
    st.waits.join(key, [self, name, host_path, reply](const error& e) {
      answer_vsmb(self, name, host_path, e, reply);
    });
    return;
  case vsmb_add_decision::wait:
    st.waits.park(key, [self, req, reply] { add_vsmb(self, req, reply); });
    return;
  case vsmb_add_decision::add:
  case vsmb_add_decision::update:
    break;
  }
  bool fresh = d.action == vsmb_add_decision::add;
  if (fresh) {
    st.waits.join(key, [self, name, host_path, reply](const error& e) {
      answer_vsmb(self, name, host_path, e, reply);
    });
  }
  auto request = fresh ? hcs::vsmb_add(d.settings) : hcs::vsmb_update(d.settings);
  auto share = d.share;
  self->state.child->steps().add(
      request, req.activity_id,
      [self, key, share, host_path, fresh, reply, activity = req.activity_id](const error& e) {
        auto& st = self->state;
        if (e) {
          st.vsmb->add_failed(share.name);
        } else {
          st.vsmb->add_succeeded(share.name);
          if (fresh) {
            publish_device(self, activity, "vsmb", "added", share.host_path, share.name);
          }
        }
        if (fresh) {
          st.waits.settle(key, e);
        } else {
          reply(e ? result<vsmb_share_handle>{e}
                  : result<vsmb_share_handle>{handle_of(share, host_path)});
        }
        st.waits.retry(key);
      });
}

void remove_vsmb(share_pointer self, const std::string& host_path, const std::string& activity,
                 ok_reply reply) {
  auto& st = self->state;
  if (lcow(self)) {
    reply(error{errc::not_supported});
    return;
  }
  auto info = stat_host_path(host_path);
  if (!info) {
    reply(info.err());
    return;
  }
  auto d = st.vsmb->begin_remove(host_path, !info->is_directory);
  if (!d) {
    reply(d.err());
    return;
  }
  auto share = d->share;
  auto key = "v:" + share.name;
  switch (d->action) {
  case vsmb_remove_decision::released:
    reply({});
    return;
  case vsmb_remove_decision::wait:
    st.waits.park(key, [=] { remove_vsmb(self, host_path, activity, reply); });
    return;
  case vsmb_remove_decision::detach:
    break;
  }
  self->state.child->steps().remove(
      hcs::vsmb_remove(share.name), {}, activity,
      [self, share, key, activity, reply](const error& e) {
        auto& st = self->state;
        if (e) {
          st.vsmb->remove_failed(share.name);
          reply(error{e.code, "failed to remove vsmb share " + share.host_path + " from " +
                                  vm_id(self) + ": " + hcs::describe_vsmb_remove(share.name) +
                                  ": " + e.text});
        } else {
          st.vsmb->remove_succeeded(share.name);
          publish_device(self, activity, "vsmb", "removed", share.host_path, share.name);
          reply({});
        }
        st.waits.retry(key);
      });
}

result<std::string> vsmb_uvm_path(share_pointer self, const std::string& host_path) {
  if (lcow(self)) {
    return error{errc::not_supported};
  }
  if (host_path.empty()) {
    return error{errc::bad_request, "no hostPath passed to GetVSMBUvmPath"};
  }
  auto info = stat_host_path(host_path);
  if (!info) {
    return info.err();
  }
  return self->state.vsmb->uvm_path(host_path, !info->is_directory);
}

// --- Plan9 ---

plan9_share_handle handle_of(const plan9_record& r) {
  return {r.mount.name, r.mount.host_path, r.mount.uvm_path};
}

void add_plan9(share_pointer self, plan9_add_request req, plan9_reply reply);

void answer_plan9(share_pointer self, const std::string& name, const error& e,
                  const plan9_reply& reply) {
  if (e) {
    reply(e);
    return;
  }
  auto r = self->state.plan9.find(name);
  reply(r ? result<plan9_share_handle>{handle_of(*r)} : result<plan9_share_handle>{r.err()});
}

void add_plan9(share_pointer self, plan9_add_request req, plan9_reply reply) {
  auto& st = self->state;
  if (!lcow(self)) {
    reply(error{errc::not_supported});
    return;
  }
  if (req.restrict_access && st.host_build < single_file_plan9_build) {
    reply(error{errc::not_supported,
                "single-file mappings are not supported on this build of Windows"});
    return;
  }
  auto d = st.plan9.begin_add(req.host_path, req.uvm_path, req.read_only, req.restrict_access,
                              req.allowed_names);
  if (!d) {
    reply(d.err());
    return;
  }
  auto name = d->record.mount.name;
  auto key = "p:" + name;
  switch (d->action) {
  case plan9_add_decision::shared:
    reply(handle_of(d->record));
    return;
  case plan9_add_decision::wait_attach:
    st.waits.join(key, [self, name, reply](const error& e) { answer_plan9(self, name, e, reply); });
    return;
  case plan9_add_decision::wait:
    st.waits.park(key, [self, req, reply] { add_plan9(self, req, reply); });
    return;
  case plan9_add_decision::add:
    break;
  }
  st.waits.join(key, [self, name, reply](const error& e) { answer_plan9(self, name, e, reply); });
  auto mount = d->record.mount;
  self->state.child->steps().add(hcs::plan9_add(mount), req.activity_id,
                                 [self, mount, key, activity = req.activity_id](const error& e) {
                                   auto& st = self->state;
                                   if (e) {
                                     st.plan9.add_failed(mount.name);
                                   } else {
                                     st.plan9.add_succeeded(mount.name);
                                     publish_device(self, activity, "plan9", "added",
                                                    mount.host_path, mount.name);
                                   }
                                   st.waits.settle(key, e);
                                   st.waits.retry(key);
                                 });
}

void remove_plan9(share_pointer self, const std::string& name, const std::string& activity,
                  ok_reply reply) {
  auto& st = self->state;
  if (!lcow(self)) {
    reply(error{errc::not_supported});
    return;
  }
  auto d = st.plan9.begin_remove(name);
  if (!d) {
    reply(d.err());
    return;
  }
  auto key = "p:" + name;
  switch (d->action) {
  case plan9_remove_decision::released:
    reply({});
    return;
  case plan9_remove_decision::wait:
    st.waits.park(key, [=] { remove_plan9(self, name, activity, reply); });
    return;
  case plan9_remove_decision::remove:
    break;
  }
  auto mount = d->record.mount;
  self->state.child->steps().remove(
      hcs::plan9_remove(name, mount.uvm_path), [mount] { return hcs::plan9_add(mount).guest; },
      activity,
      [self, mount, key, activity, reply](const error& e) {
        auto& st = self->state;
        if (e) {
          st.plan9.remove_failed(mount.name);
          reply(error{e.code,
                      "failed to remove plan9 share " + mount.name + " from " + vm_id(self) + ": " +
                          hcs::describe_plan9_remove(mount.name, mount.uvm_path) + ": " + e.text});
        } else {
          st.plan9.remove_succeeded(mount.name);
          publish_device(self, activity, "plan9", "removed", mount.host_path, mount.name);
          reply({});
        }
        st.waits.retry(key);
      });
}

// --- Named pipes ---

void modify_pipe(share_pointer self, const std::string& host_path, bool add,
                 const std::string& activity, ok_reply reply) {
  auto request = add ? hcs::pipe_add(host_path) : hcs::pipe_remove(host_path);
  auto done = [self, host_path, add, activity, reply](const error& e) {
    auto& pipes = self->state.pipes;
    if (!e) {
      if (add) {
        pipes.insert(host_path);
      } else if (auto i = pipes.find(host_path); i != pipes.end()) {
        pipes.erase(i);
      }
      publish_device(self, activity, "pipe", add ? "added" : "removed", host_path, host_path);
    }
    reply(e);
  };
  if (add) {
    self->state.child->steps().add(request, activity, done);
  } else {
    self->state.child->steps().remove(request, {}, activity, done);
  }
}

std::string view_of(share_pointer self) {
  auto& st = self->state;
  nlohmann::json pipes = nlohmann::json::array();
  for (const auto& p : st.pipes) {
    pipes.push_back(p);
  }
  nlohmann::json view = {{"vsmb", st.vsmb->to_json()},
                         {"vsmb_counter", st.vsmb->counter()},
                         {"plan9", st.plan9.to_json()},
                         {"plan9_counter", st.plan9.counter()},
                         {"pipes", pipes}};
  return view.dump();
}

// The VM exited with adds, updates or removals in flight: they failed.
void settle(share_pointer self) {
  auto& st = self->state;
  for (const auto& share : st.vsmb->entries()) {
    if (share.state == vsmb_state::attaching || share.state == vsmb_state::updating) {
      st.vsmb->add_failed(share.name);
    } else if (share.state == vsmb_state::detaching) {
      st.vsmb->remove_failed(share.name);
    }
  }
  for (const auto& record : st.plan9.entries()) {
    if (record.state == plan9_state::adding) {
      st.plan9.add_failed(record.mount.name);
    } else if (record.state == plan9_state::removing) {
      st.plan9.remove_failed(record.mount.name);
    }
  }
}

// VSMB shares with their allowed files, then Plan9 shares, then pipes.
std::vector<restore_step> restore(share_pointer self) {
  auto& st = self->state;
  std::vector<restore_step> out;
  auto add = [&](std::string what, hcs::device_request request) {
    out.push_back(restore_add(self, std::move(what), std::move(request)));
  };
  for (const auto& share : st.vsmb->entries()) {
    if (share.state == vsmb_state::attached) {
      add("VSMB share " + share.name + " (" + share.host_path + ")",
          hcs::vsmb_add({share.name, share.host_path, share.allowed_files, share.options}));
    }
  }
  for (const auto& record : st.plan9.entries()) {
    if (record.state == plan9_state::live) {
      add("Plan9 share " + record.mount.name + " (" + record.mount.host_path + ")",
          hcs::plan9_add(record.mount));
    }
  }
  for (auto p = st.pipes.begin(); p != st.pipes.end(); p = st.pipes.upper_bound(*p)) {
    add("named pipe " + *p, hcs::pipe_add(*p));
  }
  return out;
}

share_child::behavior_type share_controller(share_pointer self, share_context ctx) {
  self->state.vsmb.emplace(ctx.env.vm_id);
  self->state.host_build = ctx.host_build;
  self->state.child.emplace(self, std::move(ctx.env));
  return device_behavior<share_child::behavior_type>(
      self, [=] { return view_of(self); }, [=] { self->state.waits.clear(); },
      [=] { settle(self); }, [=] { return restore(self); },
      [=](add_vsmb_atom, vsmb_add_request& req) -> caf::result<vsmb_share_handle> {
        return serve<vsmb_share_handle, add_vsmb_atom>(
            self, [&](auto reply) { add_vsmb(self, std::move(req), reply); });
      },
      [=](remove_vsmb_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_vsmb_atom>(
            self, [&](auto reply) { remove_vsmb(self, host_path, activity, reply); });
      },
      [=](vsmb_path_atom, const std::string& host_path) -> caf::result<std::string> {
        return lookup<std::string, vsmb_path_atom>(self,
                                                   [&] { return vsmb_uvm_path(self, host_path); });
      },
      [=](add_plan9_atom, plan9_add_request& req) -> caf::result<plan9_share_handle> {
        return serve<plan9_share_handle, add_plan9_atom>(
            self, [&](auto reply) { add_plan9(self, std::move(req), reply); });
      },
      [=](remove_plan9_atom, const std::string& name,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_plan9_atom>(
            self, [&](auto reply) { remove_plan9(self, name, activity, reply); });
      },
      [=](add_pipe_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, add_pipe_atom>(
            self, [&](auto reply) { modify_pipe(self, host_path, true, activity, reply); });
      },
      [=](remove_pipe_atom, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_pipe_atom>(
            self, [&](auto reply) { modify_pipe(self, host_path, false, activity, reply); });
      });
}

} // namespace

share_child spawn_share_controller(caf::local_actor* parent, share_context ctx) {
  return parent->spawn<caf::linked>(share_controller, std::move(ctx));
}

} // namespace uvm
