#include "actors/registry.hpp"

#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace uvm {

namespace {

using vm_reply = caf::typed_response_promise<utility_vm_actor, vm_info>;

struct registry_state {
  vm_env env;
  std::unordered_map<std::string, utility_vm_actor> vms;
  // The id of each VM by its address: an exit is found without a search.
  std::unordered_map<caf::actor_addr, std::string> ids;
  // Every VM actor spawned and not yet ended, created or not: the registry
  // stops them when it stops. Monitored, not linked: an actor's links are
  // a list that each ending peer searches, which made a close cost O(VMs).
  std::unordered_map<caf::actor_addr, vm_actor> live;
  std::unordered_set<std::string> creating; // explicit ids of creates in flight
  static inline const char* name = "uvm_registry";
};

using registry_pointer = registry_internal::stateful_pointer<registry_state>;

// CreateLCOW/CreateWCOW: spawn the VM actor and let it create its system.
caf::result<utility_vm_actor, vm_info> create_vm(registry_pointer self, vm_spec spec,
                                                 const std::string& activity) {
  metrics::call_timer timer{self->state.env.metrics.get(), metrics::call_op::create};
  auto id = spec.lcow ? spec.lcow_options.common.id : spec.wcow_options.common.id;
  if (!id.empty() && (self->state.vms.count(id) > 0 || self->state.creating.count(id) > 0)) {
    timer.finish(false);
    return to_caf_error(error{errc::already_exists, "utility VM " + id + " already exists"});
  }
  auto env = self->state.env;
  const auto& common = spec.lcow ? spec.lcow_options.common : spec.wcow_options.common;
  auto backend = common.backend.empty() ? env.default_backend : common.backend;
  if (backend == "qemu") {
    env.backend = env.qemu;
  } else if (backend != "sim") {
    timer.finish(false);
    return to_caf_error(
        error{errc::bad_request, "unknown backend '" + backend + "' (sim or qemu)"});
  }
  if (!id.empty()) {
    self->state.creating.insert(id);
  }
  auto vm = spawn_vm_actor(self, std::move(env), std::move(spec));
  self->monitor(vm);
  self->state.live.emplace(vm.address(), vm);
  auto rp = self->make_response_promise<utility_vm_actor, vm_info>();
  self->request(vm, caf::infinite, vm_create_request{activity})
      .then(
          [self, rp, vm, id, timer](vm_info& info) mutable {
            self->state.creating.erase(id);
            if (self->state.vms.count(info.id) > 0) {
              timer.finish(false);
              caf::anon_send_exit(vm, caf::exit_reason::user_shutdown);
              rp.deliver(to_caf_error(
                  error{errc::already_exists, "utility VM " + info.id + " already exists"}));
              return;
            }
            utility_vm_actor handle = vm;
            self->state.vms.emplace(info.id, handle);
            self->state.ids.emplace(handle.address(), info.id);
            timer.finish(true);
            rp.deliver(handle, std::move(info));
          },
          [self, rp, id, timer](caf::error& e) mutable {
            self->state.creating.erase(id);
            timer.finish(false);
            rp.deliver(std::move(e));
          });
  return rp;
}

registry_internal::behavior_type registry(registry_pointer self, vm_env env) {
  self->state.env = std::move(env);
  self->state.env.registry = self;
  // A VM actor that ended, however it ended, leaves the table.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    st.live.erase(dm.source);
    if (auto i = st.ids.find(dm.source); i != st.ids.end()) {
      st.vms.erase(i->second);
      st.ids.erase(i);
    }
  });
  // When the engine stops the registry, its VMs stop with it.
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (!em.reason) {
      return;
    }
    for (auto& [addr, vm] : self->state.live) {
      self->send_exit(vm, em.reason);
    }
    self->quit(std::move(em.reason));
  });
  return {
      [=](create_atom, options_lcow& opts, restart_policy policy,
          const std::string& activity) -> caf::result<utility_vm_actor, vm_info> {
        vm_spec spec;
        spec.lcow = true;
        spec.lcow_options = std::move(opts);
        spec.policy = policy;
        return create_vm(self, std::move(spec), activity);
      },
      [=](create_atom, options_wcow& opts, restart_policy policy,
          const std::string& activity) -> caf::result<utility_vm_actor, vm_info> {
        vm_spec spec;
        spec.lcow = false;
        spec.wcow_options = std::move(opts);
        spec.policy = policy;
        return create_vm(self, std::move(spec), activity);
      },
      [=](find_atom, const std::string& id) -> caf::result<utility_vm_actor> {
        auto i = self->state.vms.find(id);
        if (i == self->state.vms.end()) {
          return to_caf_error(error{errc::not_found, "utility VM " + id + " not found"});
        }
        return i->second;
      },
      [=](list_atom) -> caf::result<std::vector<vm_info>> {
        auto rp = self->make_response_promise<std::vector<vm_info>>();
        auto out = std::make_shared<std::vector<vm_info>>();
        auto left = std::make_shared<size_t>(self->state.vms.size());
        if (*left == 0) {
          rp.deliver(*out);
          return rp;
        }
        // A VM that closes meanwhile is simply left out.
        auto one_done = [rp, out, left]() mutable {
          if (--*left == 0) {
            std::sort(out->begin(), out->end(),
                      [](const vm_info& a, const vm_info& b) { return a.id < b.id; });
            rp.deliver(*out);
          }
        };
        for (auto& [id, vm] : self->state.vms) {
          self->request(vm, std::chrono::seconds(30), info_atom_v)
              .then(
                  [out, one_done](vm_info& info) mutable {
                    out->push_back(std::move(info));
                    one_done();
                  },
                  [one_done](caf::error&) mutable { one_done(); });
        }
        return rp;
      },
      [=](mailbox_depth_request) -> caf::result<metrics::mailbox_sample> {
        auto rp = self->make_response_promise<metrics::mailbox_sample>();
        auto out = std::make_shared<metrics::mailbox_sample>();
        auto left = std::make_shared<size_t>(self->state.live.size());
        if (*left == 0) {
          rp.deliver(*out);
          return rp;
        }
        // A VM that does not answer in time is left out.
        auto one_done = [rp, out, left]() mutable {
          if (--*left == 0) {
            rp.deliver(*out);
          }
        };
        for (auto& [addr, vm] : self->state.live) {
          self->request(vm, std::chrono::seconds(2), mailbox_depth_request{})
              .then(
                  [out, one_done](uint64_t depth) mutable {
                    ++out->vms;
                    out->sum += depth;
                    out->max = std::max(out->max, depth);
                    one_done();
                  },
                  [one_done](caf::error&) mutable { one_done(); });
        }
        return rp;
      },
      [=](const vm_closed_report& closed) {
        auto i = self->state.vms.find(closed.id);
        if (i != self->state.vms.end() &&
            from_owner(self, i->second.address(), "vm_closed_report")) {
          self->state.ids.erase(i->second.address());
          self->state.vms.erase(i);
        }
      },
  };
}

} // namespace

registry_internal spawn_registry(caf::actor_system& sys, vm_env env) {
  return sys.spawn(registry, std::move(env));
}

} // namespace uvm
