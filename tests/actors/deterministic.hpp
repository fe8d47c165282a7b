// A deterministic engine for ordering tests: CAF's test coordinator runs
// actors only when the test says so, and the simulated HCS completes calls
// only when the test moves its manual clock.
#pragma once

#include <catch2/catch.hpp>

#include "actors/event_bus.hpp"
#include "actors/registry.hpp"
#include "actors/supervisor.hpp"
#include "hcs/sim/sim_backend.hpp"
#include "tests/actors/fixtures.hpp"

namespace uvm::test {

struct fixture {
  uvm::test::host_dir host;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<uvm::hcs::manual_executor> clock;
  std::shared_ptr<uvm::hcs::sim_backend> sim;
  uvm::supervisor_internal supervisor;
  uvm::registry_internal registry;

  // `inline_completions`: the simulator completes calls without latency
  // inside the call (as uvm-bench runs it) instead of on the manual clock.
  explicit fixture(bool inline_completions = false) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    uvm::register_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    clock = std::make_shared<uvm::hcs::manual_executor>();
    sim = std::make_shared<uvm::hcs::sim_backend>(clock, 7);
    sim->set_inline_completions(inline_completions);
    auto bus = uvm::make_event_bus(*sys, "uvm.events");
    supervisor = uvm::spawn_supervisor(*sys, bus, 100);
    uvm::vm_env env;
    env.backend = sim;
    env.host = uvm::test::test_host();
    env.fs = uvm::hcs::real_host_fs();
    env.bus = bus;
    env.supervisor = supervisor;
    // Guest steps answered inside the actor system: settle() sees them.
    env.guest = "stub";
    registry = uvm::spawn_registry(*sys, env);
    settle();
  }

  ~fixture() {
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    settle();
  }

  // Runs actors and due backend work until neither has anything left.
  void settle() {
    for (;;) {
      auto n = sched->run();
      auto m = clock->run_ready();
      if (n + m == 0) {
        return;
      }
    }
  }

  // settle(), and fire delayed messages (retries, back-offs) until quiet.
  void settle_all() {
    settle();
    while (sched->trigger_timeouts()) {
      settle();
    }
  }

  template <class T, class Handle, class... Ts>
  std::shared_ptr<std::optional<uvm::result<T>>> ask(Handle h, Ts... xs) {
    auto out = std::make_shared<std::optional<uvm::result<T>>>();
    // The target travels as a spawn argument: CAF 0.17 spawning a function
    // actor without arguments is undefined behaviour (UBSan).
    sys->spawn(
        [=](caf::event_based_actor* self, Handle target) {
          self->request(target, caf::infinite, xs...)
              .then([=](T& v) { out->emplace(std::move(v)); },
                    [=](caf::error& e) { out->emplace(uvm::from_caf_error(e)); });
        },
        h);
    return out;
  }

  uvm::utility_vm_actor create(uvm::restart_policy policy = {}, std::string id = "vm1") {
    auto vm = std::make_shared<uvm::utility_vm_actor>();
    sys->spawn(
        [=, opts = host.lcow(id)](caf::event_based_actor* self, uvm::registry_actor reg) {
          self->request(reg, caf::infinite, uvm::create_atom_v, opts, policy, std::string{})
              .then([=](uvm::utility_vm_actor& a, uvm::vm_info&) { *vm = a; }, [](caf::error&) {});
        },
        registry);
    settle();
    REQUIRE(*vm);
    return *vm;
  }

  // Creates and starts a VM.
  uvm::utility_vm_actor running(std::string id = "vm1") { return running({}, std::move(id)); }

  uvm::utility_vm_actor running(uvm::restart_policy policy, std::string id = "vm1") {
    auto vm = create(policy, id);
    auto started = ask<caf::ok_atom>(vm, uvm::start_atom_v, std::string{});
    settle();
    REQUIRE(*started);
    return vm;
  }

  uvm::vm_info info(const uvm::utility_vm_actor& vm) {
    auto r = ask<uvm::vm_info>(vm, uvm::info_atom_v);
    settle();
    REQUIRE(*r);
    return ***r;
  }

  size_t children(const uvm::utility_vm_actor& vm) {
    auto r = ask<std::vector<caf::actor_addr>>(vm, uvm::children_atom_v);
    settle();
    return (**r)->size();
  }
};

} // namespace uvm::test
