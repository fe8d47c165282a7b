// SCSI through the VM actor: in-flight sharing, failures and rollback,
// exits, pipelining, and a long randomized run checked against a reference
// model and the simulator's oracle.
#include <map>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "tests/actors/deterministic.hpp"

using namespace std::chrono_literals;
using uvm::test::fixture;

namespace {

uvm::scsi_add_request disk(const std::string& host, const std::string& uvm_path = {}) {
  uvm::scsi_add_request r;
  r.host_path = host;
  r.uvm_path = uvm_path;
  return r;
}

nlohmann::json scsi_view(fixture& f, const uvm::utility_vm_actor& vm) {
  auto v = f.ask<std::string>(vm, uvm::view_atom_v);
  f.settle();
  return nlohmann::json::parse(***v)["scsi"];
}

} // namespace

TEST_CASE("a duplicate add during an attach returns only after the attach", "[scsi]") {
  fixture f;
  auto vm = f.running();
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  auto first = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx", "/m/a"));
  f.settle();
  auto second = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx", "/m/other"));
  f.settle();
  CHECK_FALSE(first->has_value());
  CHECK_FALSE(second->has_value()); // nobody hears "ok" before the disk is there
  CHECK(f.sim->oracle()["vm1"]["scsi"].empty());

  f.clock->advance(10ms);
  f.settle();
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  REQUIRE(**first);
  REQUIRE(**second);
  CHECK((**second)->lun == 0);
  CHECK((**second)->uvm_path == "/m/a");
  CHECK(f.sim->calls_received(uvm::hcs::call_kind::modify) == 1);
  CHECK(scsi_view(f, vm)["0:0"]["refs"] == 2);
  CHECK(f.sim->oracle()["vm1"]["scsi"]["0:0"]["Path"] == "/d/a.vhdx");
}

TEST_CASE("a failed attach fails every waiter and frees the slot", "[scsi]") {
  fixture f;
  auto vm = f.running();
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  f.sim->fail_next(uvm::hcs::call_kind::modify, 1);
  auto a = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  auto b = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  f.settle();
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  CHECK((*a)->err().text.find("injected fault") != std::string::npos);
  CHECK((*b)->err().text == (*a)->err().text);
  CHECK(scsi_view(f, vm).empty());
  auto c = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  f.settle();
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(**c);
  CHECK((**c)->lun == 0);
}

TEST_CASE("an exit fails the attach in flight and its waiters", "[scsi]") {
  fixture f;
  auto vm = f.running();
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  auto a = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  auto b = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  f.settle();
  f.sim->crash("vm1");
  f.settle();
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  CHECK((*a)->err().code == uvm::errc::vm_exited);
  CHECK((*b)->err().code == uvm::errc::vm_exited);
  auto late = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/b.vhdx"));
  f.settle();
  CHECK((*late)->err().code == uvm::errc::vm_exited);
  f.clock->advance(10ms);
  f.settle();
}

TEST_CASE("calls on a disk being detached wait for the detach", "[scsi]") {
  fixture f;
  auto vm = f.running();
  auto a = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  f.settle();
  REQUIRE(**a);
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  auto r1 =
      f.ask<caf::ok_atom>(vm, uvm::remove_scsi_atom_v, std::string{"/d/a.vhdx"}, std::string{});
  f.settle();
  auto again = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx"));
  auto r2 =
      f.ask<caf::ok_atom>(vm, uvm::remove_scsi_atom_v, std::string{"/d/a.vhdx"}, std::string{});
  f.settle();
  CHECK_FALSE(again->has_value());
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(**r1);
  // After the detach the parked add attaches the disk again; the parked
  // remove finds nothing it could release (nobody held a ref when it came).
  REQUIRE(r2->has_value());
  CHECK((*r2)->err().text == "not attached");
  CHECK_FALSE(again->has_value());
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(again->has_value());
  REQUIRE(**again);
  CHECK(scsi_view(f, vm)["0:0"]["refs"] == 1);
  CHECK(f.sim->oracle()["vm1"]["scsi"]["0:0"]["Path"] == "/d/a.vhdx");
}

TEST_CASE("64 concurrent attaches on one VM overlap", "[scsi][pipelining]") {
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  uvm::engine eng{cfg};
  auto opts = host.lcow("pipelined");
  auto vm = eng.create_lcow(opts);
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  eng.sim().set_latency(uvm::hcs::call_kind::modify, 50ms, 50ms);
  std::mutex m;
  std::condition_variable cv;
  int done = 0;
  std::vector<int32_t> luns;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 64; ++i) {
    vm->add_scsi(disk("/d/" + std::to_string(i) + ".vhdx", "/m/" + std::to_string(i)),
                 [&](uvm::result<uvm::scsi_mount> r) {
                   std::lock_guard<std::mutex> lock{m};
                   if (r) {
                     luns.push_back(r->lun);
                   }
                   ++done;
                   cv.notify_all();
                 });
  }
  {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return done == 64; }));
  }
  auto elapsed = std::chrono::steady_clock::now() - t0;
  // Serialized, 64 attaches would take 64 x 50 ms = 3.2 s.
  CHECK(elapsed < 640ms);
  REQUIRE(luns.size() == 64);
  std::sort(luns.begin(), luns.end());
  for (int i = 0; i < 64; ++i) {
    CHECK(luns[i] == i);
  }
  // The 65th disk on one controller is too many.
  auto extra = vm->add_scsi("/d/extra.vhdx", "", false, uvm::vm_access_type::noop);
  CHECK(extra.err().text == "too many SCSI attachments");
  CHECK(eng.sim().oracle()["pipelined"]["scsi"].size() == 64);
  CHECK_FALSE(vm->close());
}

TEST_CASE("randomized SCSI operations match a reference model and the simulator",
          "[scsi][random]") {
  fixture f;
  const std::vector<std::string> ids{"r1", "r2", "r3"};
  std::vector<uvm::utility_vm_actor> vms;
  for (const auto& id : ids) {
    vms.push_back(f.running(id));
  }
  f.sim->fail_with_probability(uvm::hcs::call_kind::modify, 0.1);
  std::mt19937 rng{12345};
  // Reference: per VM, host path -> {lun, refs}.
  std::vector<std::map<std::string, std::pair<int32_t, uint32_t>>> model(ids.size());
  size_t adds = 0, removes = 0, faults = 0, full = 0;
  const int steps = 100000;
  for (int step = 0; step < steps; ++step) {
    auto v = rng() % ids.size();
    auto path = "/d/" + std::to_string(rng() % 80) + ".vhdx";
    auto& ref = model[v];
    auto op = rng() % 10;
    if (op == 0) {
      caf::anon_send(vms[v], uvm::guest_fail_atom_v, uint32_t{1});
    }
    if (op < 6) {
      auto r = f.ask<uvm::scsi_mount>(vms[v], uvm::add_scsi_atom_v, disk(path, "/m" + path));
      f.settle_all();
      REQUIRE(r->has_value());
      auto& res = **r;
      auto i = ref.find(path);
      if (res) {
        ++adds;
        if (i != ref.end()) {
          REQUIRE(res->lun == i->second.first);
          ++i->second.second;
        } else {
          for (auto& [p, e] : ref) {
            REQUIRE(e.first != res->lun);
          }
          ref[path] = {res->lun, 1};
        }
      } else if (res.err().text == "too many SCSI attachments") {
        ++full;
        REQUIRE(ref.size() == 64);
      } else {
        ++faults;
        INFO(res.err().text);
        REQUIRE(i == ref.end()); // only a new attach can fail
        REQUIRE(res.err().text.find("injected") != std::string::npos);
      }
    } else {
      auto r = f.ask<caf::ok_atom>(vms[v], uvm::remove_scsi_atom_v, path, std::string{});
      f.settle_all();
      REQUIRE(r->has_value());
      auto& res = **r;
      auto i = ref.find(path);
      if (res) {
        ++removes;
        REQUIRE(i != ref.end());
        if (--i->second.second == 0) {
          ref.erase(i);
        }
      } else if (res.err().text == "not attached") {
        REQUIRE(i == ref.end());
      } else {
        ++faults;
        INFO(res.err().text);
        REQUIRE(i != ref.end());
        REQUIRE(i->second.second == 1); // only the last remove detaches
        REQUIRE(res.err().text.find("injected") != std::string::npos);
      }
    }
    if (step % 500 == 0 || step == steps - 1) {
      auto oracle = f.sim->oracle();
      for (size_t k = 0; k < ids.size(); ++k) {
        auto view = scsi_view(f, vms[k]);
        REQUIRE(view.size() == model[k].size());
        // Engine view == reference == simulator view: no slot leaked.
        std::map<std::string, std::string> engine_slots, sim_slots, ref_slots;
        for (auto it = view.begin(); it != view.end(); ++it) {
          engine_slots[it.key()] = it.value()["host_path"];
          REQUIRE(it.value()["refs"] == model[k][it.value()["host_path"]].second);
        }
        const auto& sim = oracle[ids[k]]["scsi"];
        for (auto it = sim.begin(); it != sim.end(); ++it) {
          sim_slots[it.key()] = it.value()["Path"];
        }
        for (auto& [p, e] : model[k]) {
          ref_slots["0:" + std::to_string(e.first)] = p;
        }
        REQUIRE(engine_slots == ref_slots);
        REQUIRE(sim_slots == ref_slots);
      }
    }
  }
  CHECK(adds > 10000);
  CHECK(removes > 10000);
  CHECK(faults > 300);
  CHECK(full > 0);
}

TEST_CASE("the children handed out by the VM answer as the VM does", "[scsi][direct]") {
  fixture f;
  auto vm = f.create();
  auto early = f.ask<uvm::vm_devices>(vm, uvm::devices_atom_v);
  f.settle();
  REQUIRE(early->has_value());
  CHECK((*early)->err().text == "utility VM vm1 is created: cannot hand out its devices");

  auto started = f.ask<caf::ok_atom>(vm, uvm::start_atom_v, std::string{});
  f.settle();
  REQUIRE(started->has_value());
  REQUIRE(**started);
  auto handed = f.ask<uvm::vm_devices>(vm, uvm::devices_atom_v);
  f.settle();
  REQUIRE(handed->has_value());
  REQUIRE(**handed);
  auto devices = ***handed;
  auto scsi = devices.scsi;

  // Refs count the same whichever way a call comes.
  auto first = f.ask<uvm::scsi_mount>(scsi, uvm::add_scsi_atom_v, disk("/d/a.vhdx", "/m/a"));
  auto second = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/a.vhdx", "/m/b"));
  f.settle();
  REQUIRE(**first);
  REQUIRE(**second);
  CHECK((**first)->lun == 0);
  CHECK((**second)->uvm_path == "/m/a");
  CHECK(scsi_view(f, vm)["0:0"]["refs"] == 2);
  auto path = f.ask<std::string>(scsi, uvm::scsi_path_atom_v, std::string{"/d/a.vhdx"});
  auto via_vm =
      f.ask<caf::ok_atom>(vm, uvm::remove_scsi_atom_v, std::string{"/d/a.vhdx"}, std::string{});
  f.settle();
  CHECK(***path == "/m/a");
  REQUIRE(**via_vm);
  CHECK(scsi_view(f, vm)["0:0"]["refs"] == 1);
  auto direct =
      f.ask<caf::ok_atom>(scsi, uvm::remove_scsi_atom_v, std::string{"/d/a.vhdx"}, std::string{});
  f.settle();
  REQUIRE(**direct);
  CHECK(f.sim->oracle()["vm1"]["scsi"].empty());

  // While the VM stops, both ways give the VM's state error.
  f.sim->set_latency(uvm::hcs::call_kind::terminate, 50ms, 50ms);
  auto stopped = f.ask<caf::ok_atom>(vm, uvm::terminate_atom_v, std::string{});
  f.settle();
  CHECK_FALSE(stopped->has_value());
  auto add_direct = f.ask<uvm::scsi_mount>(scsi, uvm::add_scsi_atom_v, disk("/d/b.vhdx"));
  auto add_vm = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/b.vhdx"));
  auto remove_direct =
      f.ask<caf::ok_atom>(scsi, uvm::remove_scsi_atom_v, std::string{"/d/b.vhdx"}, std::string{});
  auto path_direct = f.ask<std::string>(scsi, uvm::scsi_path_atom_v, std::string{"/d/b.vhdx"});
  // Every other child reads the same lifecycle.
  auto vpmem = f.ask<std::string>(devices.vpmem, uvm::add_vpmem_atom_v, std::string{"/d/l.vhd"},
                                  std::string{});
  auto vsmb = f.ask<std::string>(devices.shares, uvm::vsmb_path_atom_v, std::string{"/s"});
  auto netns =
      f.ask<caf::ok_atom>(devices.network, uvm::add_netns_atom_v, std::string{"ns"}, std::string{});
  auto vpci =
      f.ask<caf::ok_atom>(devices.vpci, uvm::remove_device_atom_v, std::string{"g"}, std::string{});
  auto layers = f.ask<caf::ok_atom>(devices.layers, uvm::remove_layers_atom_v, std::string{"/r"},
                                    std::string{});
  auto stacks = f.ask<std::string>(devices.guest, uvm::dump_stacks_atom_v, std::string{});
  f.settle();
  CHECK((*add_direct)->err().text == "utility VM vm1 is stopping: cannot add a SCSI disk");
  CHECK((*add_vm)->err().text == (*add_direct)->err().text);
  CHECK((*remove_direct)->err().text == "utility VM vm1 is stopping: cannot remove a SCSI disk");
  CHECK((*path_direct)->err().text == "utility VM vm1 is stopping: cannot look up a SCSI disk");
  CHECK((*vpmem)->err().text == "utility VM vm1 is stopping: cannot add a VPMEM device");
  CHECK((*vsmb)->err().text == "utility VM vm1 is stopping: cannot look up a VSMB share");
  CHECK((*netns)->err().text == "utility VM vm1 is stopping: cannot add a network namespace");
  CHECK((*vpci)->err().text == "utility VM vm1 is stopping: cannot remove a VPCI device");
  CHECK((*layers)->err().text == "utility VM vm1 is stopping: cannot remove combined layers");
  CHECK((*stacks)->err().text == "utility VM vm1 is stopping: cannot dump stacks");
  CHECK(f.sim->calls_received(uvm::hcs::call_kind::modify) == 2);

  // Once the VM has stopped its child is gone; the VM says why.
  f.clock->advance(50ms);
  f.settle();
  REQUIRE(stopped->has_value());
  auto late = f.ask<uvm::scsi_mount>(scsi, uvm::add_scsi_atom_v, disk("/d/c.vhdx"));
  auto late_vm = f.ask<uvm::scsi_mount>(vm, uvm::add_scsi_atom_v, disk("/d/c.vhdx"));
  auto late_devices = f.ask<uvm::vm_devices>(vm, uvm::devices_atom_v);
  f.settle();
  CHECK((*late)->err().code == uvm::errc::closed);
  CHECK((*late_vm)->err().text == "utility VM vm1 is stopped: cannot add a SCSI disk");
  CHECK((*late_devices)->err().text == "utility VM vm1 is stopped: cannot hand out its devices");
  CHECK(f.sim->calls_received(uvm::hcs::call_kind::modify) == 2);
}

TEST_CASE("a direct attach in flight when the VM crashes gets the exit error", "[scsi][direct]") {
  fixture f;
  auto vm = f.running();
  auto devices = f.ask<uvm::vm_devices>(vm, uvm::devices_atom_v);
  f.settle();
  REQUIRE(**devices);
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  auto added =
      f.ask<uvm::scsi_mount>((***devices).scsi, uvm::add_scsi_atom_v, disk("/d/a.vhdx", "/m/a"));
  f.settle();
  CHECK_FALSE(added->has_value());
  f.sim->crash("vm1");
  f.settle();
  REQUIRE(added->has_value());
  CHECK((*added)->err().code == uvm::errc::vm_exited);
  CHECK((*added)->err().text.rfind("utility VM vm1 exited unexpectedly: ", 0) == 0);
}
