// Orderings on CAF's deterministic test coordinator: actors run only when
// the test runs the scheduler, and the simulated HCS completes calls only
// when the test moves its manual clock.
#include <catch2/catch.hpp>

#include "tests/actors/deterministic.hpp"

using namespace std::chrono_literals;
using uvm::test::fixture;

TEST_CASE("a start in flight fails with the exit when the guest crashes", "[ordering]") {
  fixture f;
  auto vm = f.create();
  f.sim->set_latency(uvm::hcs::call_kind::start, 1s, 1s);
  auto started = f.ask<caf::ok_atom>(vm, uvm::start_atom_v, std::string{});
  f.settle();
  CHECK_FALSE(started->has_value());
  CHECK(f.info(vm).state == uvm::lifecycle_state::starting);

  f.sim->crash("vm1");
  f.settle();
  REQUIRE(started->has_value());
  CHECK((*started)->err().code == uvm::errc::vm_exited);
  CHECK(f.info(vm).state == uvm::lifecycle_state::exited);
  CHECK(f.children(vm) == 0);

  // The start's completion arrives after the exit: it changes nothing.
  f.clock->advance(1s);
  f.settle();
  CHECK(f.info(vm).state == uvm::lifecycle_state::exited);
}

TEST_CASE("an exit after a terminate is expected: no restart", "[ordering]") {
  fixture f;
  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  auto vm = f.running(policy);
  f.sim->set_latency(uvm::hcs::call_kind::terminate, 10ms, 10ms);
  auto waited = f.ask<caf::ok_atom>(vm, uvm::wait_atom_v);
  auto terminated = f.ask<caf::ok_atom>(vm, uvm::terminate_atom_v, std::string{});
  f.settle();
  CHECK(f.info(vm).state == uvm::lifecycle_state::stopping);
  CHECK_FALSE(waited->has_value());
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(*terminated);
  REQUIRE(*waited);
  CHECK(f.info(vm).state == uvm::lifecycle_state::stopped);
  auto exits = f.ask<std::vector<uvm::exit_record>>(f.supervisor, uvm::exits_atom_v);
  f.sched->trigger_timeouts();
  f.settle();
  REQUIRE((**exits)->size() == 1);
  CHECK_FALSE((***exits)[0].unexpected);
  CHECK((***exits)[0].action == "none");
  CHECK(f.info(vm).restarts == 0);
}

TEST_CASE("the supervisor restarts after its back-off, not before", "[ordering]") {
  fixture f;
  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  policy.backoff_initial_ms = 250;
  auto vm = f.running(policy);
  auto waited = f.ask<caf::ok_atom>(vm, uvm::wait_atom_v);
  f.settle();

  f.sim->crash("vm1");
  f.settle();
  REQUIRE(*waited); // Wait returns nil after an unexpected exit
  CHECK(f.info(vm).state == uvm::lifecycle_state::exited);
  CHECK(f.sim->oracle()["vm1"]["state"] == "crashed");

  // The restart is a delayed message: it fires only when its time comes.
  f.sched->trigger_timeouts();
  f.settle();
  auto info = f.info(vm);
  CHECK(info.restarts == 1);
  CHECK(info.state == uvm::lifecycle_state::running);
  CHECK(f.children(vm) == 7);
  CHECK(f.sim->oracle()["vm1"]["state"] == "running");
}

TEST_CASE("close waits for the exit, then forgets the VM", "[ordering]") {
  fixture f;
  auto vm = f.create();
  auto started = f.ask<caf::ok_atom>(vm, uvm::start_atom_v, std::string{});
  f.settle();
  f.sim->set_latency(uvm::hcs::call_kind::terminate, 5ms, 5ms);
  auto closed = f.ask<caf::ok_atom>(vm, uvm::close_atom_v, std::string{});
  f.settle();
  CHECK_FALSE(closed->has_value());
  f.clock->advance(5ms);
  f.settle();
  REQUIRE(*closed);
  auto found = f.ask<uvm::utility_vm_actor>(f.registry, uvm::find_atom_v, std::string{"vm1"});
  f.settle();
  REQUIRE(found->has_value());
  CHECK((*found)->err().code == uvm::errc::not_found);
  CHECK(f.sim->oracle().empty());
}

TEST_CASE("calls wait while a restarted VM attaches its disks again", "[ordering][restore]") {
  fixture f;
  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  auto vm = f.running(policy);
  uvm::scsi_add_request disk;
  disk.host_path = "/d/a.vhdx";
  disk.uvm_path = "/m/a";
  auto added = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk);
  f.settle();
  REQUIRE(*added);

  f.sim->crash("vm1");
  f.settle();
  // The restarted system runs; the disk's attach takes 10 ms.
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  f.sched->trigger_timeouts();
  f.settle();
  CHECK(f.info(vm).state == uvm::lifecycle_state::running);
  CHECK(f.sim->oracle()["vm1"]["scsi"].empty());
  auto path = f.ask<std::string>(vm, uvm::scsi_path_atom_v, std::string{"/d/a.vhdx"});
  f.settle();
  CHECK_FALSE(path->has_value());

  f.clock->advance(10ms);
  f.settle();
  REQUIRE(path->has_value());
  REQUIRE(**path);
  CHECK(***path == "/m/a");
  CHECK(f.sim->oracle()["vm1"]["scsi"]["0:0"]["Path"] == "/d/a.vhdx");
}
