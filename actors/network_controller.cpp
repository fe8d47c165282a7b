#include "actors/network_controller.hpp"

#include <deque>

#include "actors/core/netns_table.hpp"
#include "hcs/guid.hpp"

namespace uvm {

namespace {

constexpr uint32_t rs5_build = 17763;

struct network_state {
  std::optional<device_child> child;
  bool rs4 = false;
  bool namespace_supported = true;
  netns_table table;
  // Calls wait here while one runs (see serialized).
  std::deque<std::function<void()>> queue;
  bool busy = false;
  static inline const char* name = "uvm_network";
};

using network_pointer = network_child::stateful_pointer<network_state>;
using ok_reply = std::function<void(const error&)>;
using nics = std::vector<netns_nic>;

bool lcow(network_pointer self) {
  return self->state.child->env().lcow;
}

// addNIC (§11.2): WCOW announces the endpoint to the guest first.
void add_nic(network_pointer self, const netns_nic& nic, const std::string& activity,
             ok_reply done) {
  auto& st = self->state;
  if (lcow(self)) {
    self->state.child->steps().add(
        hcs::network_adapter_add_lcow(nic.nic_id, nic.endpoint, st.namespace_supported), activity,
        done);
    return;
  }
  auto add = hcs::network_adapter_add_wcow(nic.nic_id, nic.endpoint, st.rs4);
  auto preadd =
      hcs::network_adapter_preadd_wcow(nic.nic_id, hcs::hns_endpoint_json(nic.endpoint), st.rs4);
  self->state.child->steps().add(preadd, activity, [self, add, activity, done](const error& e) {
    if (e) {
      done(e);
      return;
    }
    self->state.child->steps().add(add, activity, done);
  });
}

void remove_nic(network_pointer self, const netns_nic& nic, const std::string& activity,
                ok_reply done) {
  auto& st = self->state;
  auto req = lcow(self) ? hcs::network_adapter_remove_lcow(nic.nic_id, nic.endpoint,
                                                           st.namespace_supported)
                        : hcs::network_adapter_remove_wcow(nic.nic_id, nic.endpoint, st.rs4);
  self->state.child->steps().remove(req, {}, activity, done);
}

// Adds the NICs in order and stops at the first failure; the NICs not
// added are taken back out of the table (the seed kept no record of them
// either). Earlier NICs stay, as in the seed.
void add_nics(network_pointer self, std::string ns, nics todo, size_t next, std::string activity,
              ok_reply reply) {
  if (next == todo.size()) {
    reply({});
    return;
  }
  add_nic(self, todo[next], activity, [=](const error& e) {
    if (!e) {
      publish_device(self, activity, "network", "added", todo[next].endpoint.id, todo[next].nic_id);
      add_nics(self, ns, todo, next + 1, activity, reply);
      return;
    }
    std::vector<std::string> undone;
    for (size_t i = next; i < todo.size(); ++i) {
      undone.push_back(todo[i].endpoint.id);
    }
    self->state.table.forget_endpoints(ns, undone);
    reply(e);
  });
}

// Removes the NICs in order; the first failure is the answer, the rest
// are still tried. A NIC whose removal failed stays recorded, so that a
// retry removes it.
void remove_nics(network_pointer self, std::string ns, nics todo, size_t next, std::string activity,
                 error first, std::function<void(const error&)> reply) {
  if (next == todo.size()) {
    reply(first);
    return;
  }
  remove_nic(self, todo[next], activity, [=](const error& e) {
    const auto& nic = todo[next];
    if (e) {
      self->state.table.nic_remove_failed(ns, nic.endpoint.id);
    } else {
      self->state.table.nic_removed(ns, nic.endpoint.id);
      publish_device(self, activity, "network", "removed", nic.endpoint.id, nic.nic_id);
    }
    remove_nics(self, ns, todo, next + 1, activity, first ? first : e, reply);
  });
}

void add_namespace(network_pointer self, const std::string& id, const std::string& activity,
                   ok_reply reply) {
  auto& st = self->state;
  if (auto e = st.table.add_namespace(id)) {
    reply(e);
    return;
  }
  if (lcow(self) || !st.namespace_supported) {
    reply({});
    return;
  }
  self->state.child->steps().add(hcs::network_namespace_wcow("Add", hcs::hns_namespace_json(id)),
                                 activity, [self, id, reply](const error& e) {
                                   if (e) {
                                     self->state.table.forget_namespace(id);
                                   }
                                   reply(e);
                                 });
}

// The NICs first (a failure keeps the namespace with what is left, for a
// retry), then the guest's namespace (WCOW), then the record.
void remove_namespace(network_pointer self, const std::string& id, const std::string& activity,
                      ok_reply reply) {
  auto& st = self->state;
  auto removing = st.table.remove_namespace(id);
  if (!removing) {
    reply({});
    return;
  }
  bool guest_namespace = !lcow(self) && st.namespace_supported;
  auto finish = [self, id, reply](const error& e) {
    self->state.table.namespace_removed(id, !e);
    reply(e);
  };
  remove_nics(self, id, *removing, 0, activity, {}, [=](const error& e) {
    if (e || !guest_namespace) {
      finish(e);
      return;
    }
    self->state.child->steps().remove(
        hcs::network_namespace_wcow("Remove", hcs::hns_namespace_json(id)), {}, activity, finish);
  });
}

void run_next(network_pointer self) {
  auto& st = self->state;
  if (st.busy || st.queue.empty()) {
    return;
  }
  st.busy = true;
  auto job = std::move(st.queue.front());
  st.queue.pop_front();
  job();
}

// Network calls run one at a time, as under the seed's lock (uvm-api.md
// §16): a removal never meets a NIC whose add is still in flight, nor a
// namespace removal a NIC removal of an earlier call.
void serialized(network_pointer self, std::function<void(ok_reply)> job, ok_reply reply) {
  self->state.queue.push_back([self, job = std::move(job), reply = std::move(reply)] {
    job([self, reply](const error& e) {
      reply(e);
      self->state.busy = false;
      run_next(self);
    });
  });
  run_next(self);
}

std::vector<std::string> ids_of(const std::vector<hcs::network_endpoint>& endpoints) {
  std::vector<std::string> out;
  out.reserve(endpoints.size());
  for (const auto& e : endpoints) {
    out.push_back(e.id);
  }
  return out;
}

// The VM exited with removals in flight: they failed, and what they were
// removing is still recorded.
void settle(network_pointer self) {
  auto& st = self->state;
  st.busy = false;
  for (const auto& id : st.table.ids()) {
    for (const auto& nic : st.table.nics(id)) {
      if (nic.removing) {
        st.table.nic_remove_failed(id, nic.endpoint.id);
      }
    }
    st.table.namespace_removed(id, false);
  }
}

// Each namespace (WCOW: announced to the guest first), then its NICs.
std::vector<restore_step> restore(network_pointer self) {
  auto& st = self->state;
  std::vector<restore_step> out;
  for (const auto& id : st.table.ids()) {
    if (!lcow(self) && st.namespace_supported) {
      out.push_back(restore_add(self, "network namespace " + id,
                                hcs::network_namespace_wcow("Add", hcs::hns_namespace_json(id))));
    }
    for (const auto& nic : st.table.nics(id)) {
      out.push_back(
          {"network endpoint " + nic.endpoint.id + " (NIC " + nic.nic_id + ")",
           [self, nic](device_steps::done_fn done) { add_nic(self, nic, "", std::move(done)); }});
    }
  }
  return out;
}

network_child::behavior_type network_controller(network_pointer self, network_context ctx) {
  self->state.rs4 = ctx.host_build < rs5_build;
  self->state.namespace_supported = ctx.namespace_supported;
  self->state.child.emplace(self, std::move(ctx.env));
  return device_behavior<network_child::behavior_type>(
      self, [=] { return self->state.table.to_json().dump(); }, [=] { self->state.queue.clear(); },
      [=] { settle(self); }, [=] { return restore(self); },
      [=](add_netns_atom, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, add_netns_atom>(self, [&](auto reply) {
          serialized(
              self, [=](ok_reply done) { add_namespace(self, id, activity, done); }, reply);
        });
      },
      [=](remove_netns_atom, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_netns_atom>(self, [&](auto reply) {
          serialized(
              self, [=](ok_reply done) { remove_namespace(self, id, activity, done); }, reply);
        });
      },
      [=](add_endpoints_atom, const std::string& id,
          const std::vector<hcs::network_endpoint>& endpoints,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, add_endpoints_atom>(self, [&](auto reply) {
          serialized(
              self,
              [=](ok_reply done) {
                auto todo = self->state.table.add_endpoints(id, endpoints, hcs::new_guid);
                if (!todo) {
                  done(todo.err());
                  return;
                }
                add_nics(self, id, std::move(*todo), 0, activity, done);
              },
              reply);
        });
      },
      [=](remove_endpoints_atom, const std::string& id,
          const std::vector<hcs::network_endpoint>& endpoints,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_endpoints_atom>(self, [&](auto reply) {
          serialized(
              self,
              [=](ok_reply done) {
                auto todo = self->state.table.remove_endpoints(id, ids_of(endpoints));
                if (!todo) {
                  done(todo.err());
                  return;
                }
                remove_nics(self, id, std::move(*todo), 0, activity, {}, done);
              },
              reply);
        });
      });
}

} // namespace

network_child spawn_network_controller(caf::local_actor* parent, network_context ctx) {
  return parent->spawn<caf::linked>(network_controller, std::move(ctx));
}

} // namespace uvm
