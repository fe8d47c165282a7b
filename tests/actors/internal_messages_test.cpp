// The messages the engine's actors send each other (actors/internal_calls)
// are refused from anyone else. Each is sent to an actor through its public
// handle, cast to an untyped one (a public handle does not even compile the
// send), and the test checks that nothing changed; the public interfaces are
// checked at compile time not to list any of them.
#include <catch2/catch.hpp>

#include "tests/actors/deterministic.hpp"

using namespace std::chrono_literals;
using uvm::test::fixture;

namespace {

template <class Handle, class Message>
constexpr bool accepts =
    caf::response_type_unbox<caf::signatures_of_t<Handle>, caf::detail::type_list<Message>>::valid;

static_assert(!accepts<uvm::utility_vm_actor, uvm::hcs_exit_report>);
static_assert(!accepts<uvm::utility_vm_actor, uvm::inbox_ready>);
static_assert(!accepts<uvm::utility_vm_actor, uvm::bridge_lost>);
static_assert(!accepts<uvm::utility_vm_actor, uvm::vm_restart_request>);
static_assert(!accepts<uvm::utility_vm_actor, uvm::vm_create_request>);
static_assert(!accepts<uvm::scsi_actor, uvm::system_exited>);
static_assert(!accepts<uvm::scsi_actor, uvm::inbox_ready>);
static_assert(!accepts<uvm::guest_actor, uvm::guest_modify_request>);
static_assert(!accepts<uvm::guest_actor, uvm::bridge_frame>);
static_assert(!accepts<uvm::guest_actor, uvm::bridge_lost>);
static_assert(!accepts<uvm::guest_actor, uvm::rpc_deadline_sweep>);
static_assert(!accepts<uvm::supervisor_actor, uvm::vm_exit_report>);
static_assert(!accepts<uvm::supervisor_actor, uvm::vm_watch_request>);
static_assert(!accepts<uvm::registry_actor, uvm::vm_closed_report>);
// ...while the actors' own (internal) interfaces do take them.
static_assert(accepts<uvm::vm_actor, uvm::hcs_exit_report>);
static_assert(accepts<uvm::scsi_child, uvm::system_exited>);

// Sends `msg` to what `handle` names, as nobody in particular.
template <class Handle, class Message>
void forge(const Handle& handle, Message msg) {
  caf::anon_send(caf::actor_cast<caf::actor>(handle), std::move(msg));
}

uvm::scsi_add_request disk(std::string path) {
  uvm::scsi_add_request r;
  r.host_path = std::move(path);
  return r;
}

nlohmann::json view_of(fixture& f, const uvm::utility_vm_actor& vm) {
  auto v = f.ask<std::string>(vm, uvm::view_atom_v);
  f.settle();
  REQUIRE(**v);
  return nlohmann::json::parse(***v);
}

} // namespace

TEST_CASE("a VM refuses backend, bridge and supervisor messages from others", "[internal]") {
  fixture f;
  auto vm = f.running();

  // A fake exit of the current system.
  forge(vm, uvm::hcs_exit_report{1, {uvm::hcs::hr::unexpected_exit, "forged"}});
  // A fake loss of the guest connection.
  forge(vm, uvm::bridge_lost{"forged"});
  // Fake wake-ups of backend completions.
  for (uint64_t id = 0; id < 16; ++id) {
    forge(vm, uvm::inbox_ready{id});
  }
  f.settle_all();
  CHECK(f.info(vm).state == uvm::lifecycle_state::running);
  CHECK(f.children(vm) == 7);
  CHECK(f.sim->calls_received(uvm::hcs::call_kind::terminate) == 0);

  // A fake create: only the registry may ask.
  auto created =
      f.ask<uvm::vm_info>(caf::actor_cast<uvm::vm_actor>(vm), uvm::vm_create_request{"act"});
  f.settle();
  REQUIRE(created->has_value());
  CHECK((*created)->err().text == "only the registry creates a VM");

  // A fake restart of a VM that crashed under policy `never`.
  f.sim->crash("vm1");
  f.settle();
  REQUIRE(f.info(vm).state == uvm::lifecycle_state::exited);
  forge(vm, uvm::vm_restart_request{});
  f.settle_all();
  CHECK(f.info(vm).state == uvm::lifecycle_state::exited);
  CHECK(f.info(vm).restarts == 0);
}

TEST_CASE("device children refuse exits and wake-ups from others", "[internal]") {
  fixture f;
  auto vm = f.running();
  auto devices = f.ask<uvm::vm_devices>(vm, uvm::devices_atom_v);
  f.settle();
  REQUIRE(**devices);
  auto scsi = (***devices).scsi;

  // A guest step fails after the host added the disk; undoing the host add
  // fails once too, so the undo waits on a timer: an early wake-up must
  // not retry it.
  f.sim->set_latency(uvm::hcs::call_kind::modify, 1ms, 1ms);
  caf::anon_send(vm, uvm::guest_fail_atom_v, uint32_t{1});
  auto mounted = disk("/d/a.vhdx");
  mounted.uvm_path = "/m/a";
  auto added = f.ask<uvm::scsi_mount>(scsi, uvm::add_scsi_atom_v, mounted);
  f.settle();
  f.sim->fail_next(uvm::hcs::call_kind::modify, 1);
  f.clock->advance(1ms); // the host add succeeds, the guest step fails
  f.settle();
  f.clock->advance(1ms); // the undo fails: a retry is due in 10 ms
  f.settle();
  CHECK_FALSE(added->has_value());
  REQUIRE(f.sim->calls_received(uvm::hcs::call_kind::modify) == 2);
  for (uint64_t id = 0; id < 64; ++id) {
    forge(scsi, uvm::inbox_ready{id});
  }
  f.settle();
  CHECK(f.sim->calls_received(uvm::hcs::call_kind::modify) == 2);
  CHECK_FALSE(added->has_value());
  // The real timer: the undo succeeds and the caller hears of the guest.
  f.sched->trigger_timeouts();
  f.settle();
  f.clock->advance(1ms);
  f.settle();
  REQUIRE(added->has_value());
  CHECK((*added)->err().text.find("guest modify") != std::string::npos);
  CHECK(f.sim->oracle()["vm1"]["scsi"].empty());

  // A fake exit: the child keeps serving.
  forge(scsi, uvm::system_exited{uvm::to_caf_error(uvm::errc::internal)});
  f.settle();
  auto again = f.ask<uvm::scsi_mount>(scsi, uvm::add_scsi_atom_v, disk("/d/b.vhdx"));
  f.settle();
  f.clock->advance(1ms);
  f.settle();
  REQUIRE(again->has_value());
  CHECK(**again);
  CHECK(view_of(f, vm)["scsi"].size() == 1);
}

TEST_CASE("the GCS bridge child refuses guest requests, frames and losses from others",
          "[internal]") {
  fixture f;
  auto vm = f.running();
  auto devices = f.ask<uvm::vm_devices>(vm, uvm::devices_atom_v);
  f.settle();
  REQUIRE(**devices);
  auto guest = (***devices).guest;
  auto before = view_of(f, vm)["gcs_bridge"];

  bool answered = false;
  forge(guest, uvm::guest_modify_request{
                   R"({"ResourceType":"VPMemDevice","Settings":{"MountPath":"/run/forged"}})", "",
                   [&answered](uvm::error) { answered = true; }});
  forge(guest, uvm::bridge_frame{0x10100001, 7, "{}"});
  forge(guest, uvm::bridge_lost{"forged"});
  forge(guest, uvm::rpc_deadline_sweep{});
  f.settle_all();
  CHECK_FALSE(answered);
  CHECK(view_of(f, vm)["gcs_bridge"] == before);
  CHECK(f.info(vm).state == uvm::lifecycle_state::running);
}

TEST_CASE("the supervisor and the registry refuse reports from others", "[internal]") {
  fixture f;
  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  auto vm = f.create(policy);

  forge(f.supervisor, uvm::vm_exit_report{"vm1", true, "forged", "act"});
  forge(f.supervisor, uvm::vm_watch_request{vm, "vm2", policy});
  forge(f.registry, uvm::vm_closed_report{"vm1"});
  f.settle_all();

  auto exits = f.ask<std::vector<uvm::exit_record>>(f.supervisor, uvm::exits_atom_v);
  auto found = f.ask<uvm::utility_vm_actor>(f.registry, uvm::find_atom_v, std::string{"vm1"});
  f.settle();
  REQUIRE(**exits);
  CHECK((***exits).empty());
  REQUIRE(**found);
  CHECK(f.info(vm).restarts == 0);
}
