#include "actors/supervisor.hpp"

#include <deque>
#include <unordered_map>

#include "actors/core/logging.hpp"
#include "actors/core/restart_tracker.hpp"

namespace uvm {

namespace {

struct watched_vm {
  utility_vm_actor vm;
  restart_tracker tracker;
};

struct supervisor_state {
  caf::group bus;
  std::unordered_map<std::string, watched_vm> vms;
  // The id of each watched VM by its address: a VM's end is found without
  // a search.
  std::unordered_map<caf::actor_addr, std::string> ids;
  // The most recent exits, oldest first.
  std::deque<exit_record> exits;
  size_t history = 0;
  static inline const char* name = "uvm_supervisor";
};

supervisor_internal::behavior_type
supervisor(supervisor_internal::stateful_pointer<supervisor_state> self, caf::group bus,
           size_t history) {
  self->state.bus = std::move(bus);
  self->state.history = history;
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto i = st.ids.find(dm.source); i != st.ids.end()) {
      // A VM of the same id may have replaced it meanwhile.
      if (auto v = st.vms.find(i->second);
          v != st.vms.end() && v->second.vm.address() == dm.source) {
        st.vms.erase(v);
      }
      st.ids.erase(i);
    }
  });
  return {
      [=](const vm_watch_request& req) {
        if (!from_owner(self, req.vm.address(), "vm_watch_request")) {
          return;
        }
        self->monitor(req.vm);
        self->state.ids.insert_or_assign(req.vm.address(), req.id);
        self->state.vms.insert_or_assign(req.id, watched_vm{req.vm, restart_tracker{req.policy}});
      },
      [=](const vm_exit_report& report) {
        const auto& id = report.id;
        auto i = self->state.vms.find(id);
        if (i == self->state.vms.end() ||
            !from_owner(self, i->second.vm.address(), "vm_exit_report")) {
          return;
        }
        bool unexpected = report.unexpected;
        exit_record rec{id, unexpected, report.exit_error, "none", 0};
        if (unexpected) {
          auto d = i->second.tracker.on_failure(restart_tracker::clock::now());
          vm_restart_event ev{id, d.restart ? "restart" : "gave-up", d.attempt,
                              static_cast<uint32_t>(d.delay.count())};
          if (d.restart) {
            rec.action = "restart";
            rec.restarts = d.attempt;
            self->delayed_send(caf::actor_cast<vm_actor>(i->second.vm), d.delay,
                               vm_restart_request{});
            logging::warn({id, report.activity}, "restarting utility VM",
                          {{"attempt", d.attempt}, {"delay_ms", d.delay.count()}});
            caf::anon_send(self->state.bus, ev);
          } else if (i->second.tracker.restarts_enabled()) {
            rec.action = "gave-up";
            logging::error({id, report.activity}, "utility VM exceeded its restart limit");
            caf::anon_send(self->state.bus, ev);
          }
        }
        auto& exits = self->state.exits;
        exits.push_back(std::move(rec));
        if (exits.size() > self->state.history) {
          exits.pop_front();
        }
      },
      [=](exits_atom) {
        const auto& exits = self->state.exits;
        return std::vector<exit_record>(exits.begin(), exits.end());
      },
  };
}

} // namespace

supervisor_internal spawn_supervisor(caf::actor_system& sys, caf::group bus, size_t history) {
  return sys.spawn(supervisor, std::move(bus), history);
}

} // namespace uvm
