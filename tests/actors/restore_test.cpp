// Desired-state restarts: a VM its policy restarts comes back with the
// devices it had (same slots, same ref-counts, the guest's mounts again),
// attached again once it runs while callers' calls wait, and a device that
// cannot be attached again leaves the VM exited with an error that names
// it.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <mutex>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using uvm::test::eventually;
using uvm::test::host_dir;

namespace {

uvm::engine_config test_config() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  cfg.call_timeout = std::chrono::seconds(20);
  return cfg;
}

uvm::restart_policy on_failure() {
  uvm::restart_policy p;
  p.kind = uvm::restart_kind::on_failure;
  p.max_restarts = 5;
  p.backoff_initial_ms = 10;
  return p;
}

std::string make_file(const host_dir& host, const std::string& rel) {
  auto p = host.path(rel);
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  std::ofstream(p) << "layer\n";
  return p;
}

uvm::hcs::network_endpoint endpoint(const std::string& id, const std::string& mac) {
  uvm::hcs::network_endpoint e;
  e.id = id;
  e.mac_address = mac;
  e.namespace_id = "ns1";
  e.ip_address = "10.0.0.2";
  e.prefix_length = 24;
  e.gateway_address = "10.0.0.1";
  return e;
}

// What the simulated HCS holds of the VM's devices.
nlohmann::json hcs_devices(uvm::engine& eng, const std::string& id) {
  auto o = eng.sim().oracle()[id];
  return {{"scsi", o["scsi"]},
          {"vpmem", o["vpmem"]},
          {"plan9", o["plan9"]},
          {"vsmb", o["vsmb"]},
          {"mapped_pipes", o["mapped_pipes"]},
          {"network_adapters", o["network_adapters"]},
          {"vpci", o["vpci"]}};
}

// The engine's view of the VM's devices and of the guest's mounts.
nlohmann::json engine_devices(uvm::utility_vm& vm) {
  auto v = vm.device_view();
  REQUIRE(v);
  auto view = nlohmann::json::parse(*v);
  return {{"scsi", view["scsi"]},
          {"vpmem", view["vpmem"]},
          {"shares", view["shares"]},
          {"network", view["network"]},
          {"combined_layers", view["combined_layers"]},
          {"guest_mounts", view["gcs_bridge"]["mounts"]}};
}

// A started VM that its policy restarts once, with /d/a.vhdx at 0:0.
uvm::utility_vm started_with_a_disk(uvm::engine& eng, const host_dir& host, const std::string& id) {
  auto policy = on_failure();
  policy.max_restarts = 1;
  auto created = eng.create_lcow(host.lcow(id), policy);
  REQUIRE(created);
  auto vm = *created;
  REQUIRE_FALSE(vm.start());
  REQUIRE(vm.add_scsi("/d/a.vhdx", "/run/mounts/a", false, uvm::vm_access_type::noop));
  return vm;
}

bool restarted(uvm::utility_vm& vm, uint32_t round) {
  auto info = vm.info();
  return info && info->restarts == round && info->state == uvm::lifecycle_state::running;
}

} // namespace

TEST_CASE("a restarted VM comes back with its devices, slots and ref-counts", "[restore][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto created = eng.create_lcow(host.lcow("phoenix-devices"), on_failure());
  REQUIRE(created);
  auto vm = *created;
  REQUIRE_FALSE(vm.start());

  // Three disks with a hole at 0:1, one of them held twice.
  REQUIRE(vm.add_scsi("/d/a.vhdx", "/run/mounts/a", false, uvm::vm_access_type::noop));
  REQUIRE(vm.add_scsi("/d/hole.vhdx", "/run/mounts/hole", false, uvm::vm_access_type::noop));
  REQUIRE(vm.add_scsi("/d/c.vhdx", "/run/mounts/c", true, uvm::vm_access_type::noop));
  REQUIRE(vm.add_scsi("/d/d.vhdx", "", false, uvm::vm_access_type::noop));
  REQUIRE(vm.add_scsi("/d/a.vhdx", "/run/mounts/other", false, uvm::vm_access_type::noop));
  REQUIRE_FALSE(vm.remove_scsi("/d/hole.vhdx"));
  // Two VPMEM layers, a Plan9 share, a namespace with an endpoint, and
  // layers combined over them.
  auto l1 = make_file(host, "layers/1/layer.vhd");
  auto l2 = make_file(host, "layers/2/layer.vhd");
  REQUIRE(vm.add_vpmem(l1));
  REQUIRE(vm.add_vpmem(l2));
  std::filesystem::create_directories(host.path("share"));
  REQUIRE(vm.add_plan9(host.path("share"), "/run/share", true, false, {}));
  REQUIRE_FALSE(vm.add_net_ns("ns1"));
  REQUIRE_FALSE(vm.add_endpoints_to_ns("ns1", {endpoint("ep-1", "00-15-5D-00-00-01")}));
  REQUIRE_FALSE(vm.combine_layers_lcow({"/run/layers/p0", "/run/layers/p1"}, "/run/mounts/a",
                                       "/run/gcs/c/box/rootfs"));

  uvm::process_parameters params;
  params.command_args = {"sleep", "30"};
  auto proc = vm.create_process(params.to_json());
  REQUIRE(proc);

  auto hcs_before = hcs_devices(eng, "phoenix-devices");
  auto engine_before = engine_devices(vm);
  REQUIRE(hcs_before["scsi"].size() == 3);
  REQUIRE(hcs_before["vpmem"].size() == 2);
  REQUIRE(hcs_before["network_adapters"].size() == 1);

  for (uint32_t round = 1; round <= 2; ++round) {
    eng.sim().crash("phoenix-devices");
    REQUIRE(eventually([&] { return restarted(vm, round); }));
    CHECK(eng.sim().oracle()["phoenix-devices"]["state"] == "running");
    // The VM runs while its devices are attached again (the first test
    // below shows that callers' calls wait meanwhile).
    CHECK(eventually([&] {
      return hcs_devices(eng, "phoenix-devices") == hcs_before &&
             engine_devices(vm) == engine_before;
    }));
    CHECK(hcs_devices(eng, "phoenix-devices") == hcs_before);
    CHECK(engine_devices(vm) == engine_before);
  }

  // Processes are not restored: one that ran before is reported lost.
  auto lost = proc->wait();
  REQUIRE_FALSE(lost);
  CHECK(lost.err().text.find("was restarted after an unexpected exit") != std::string::npos);

  // The handles and ref-counts are the ones from before the crashes: the
  // disk added twice goes with its second release, not before.
  REQUIRE_FALSE(vm.remove_scsi("/d/a.vhdx"));
  CHECK(hcs_devices(eng, "phoenix-devices")["scsi"].size() == 3);
  REQUIRE_FALSE(vm.remove_scsi("/d/a.vhdx"));
  CHECK(hcs_devices(eng, "phoenix-devices")["scsi"].size() == 2);
  CHECK(vm.remove_scsi("/d/a.vhdx").code == uvm::errc::not_attached);
  // The next free slot is still the hole's.
  auto again = vm.add_scsi("/d/e.vhdx", "", false, uvm::vm_access_type::noop);
  REQUIRE(again);
  CHECK(again->controller == 0);
  CHECK(again->lun == 0);
  REQUIRE_FALSE(vm.close());
}

TEST_CASE("a device that cannot be attached again fails the restart and names it",
          "[restore][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = started_with_a_disk(eng, host, "phoenix-fails");

  // The restarted system refuses its first modify: the disk's attach.
  eng.sim().fail_next(uvm::hcs::call_kind::modify, 1, "phoenix-fails");
  eng.sim().crash("phoenix-fails");
  REQUIRE(eventually([&] {
    auto info = vm.info();
    return info && info->restarts == 1 && info->state == uvm::lifecycle_state::exited;
  }));
  auto why = vm.exit_error();
  CHECK(why.text.rfind("failed to restore SCSI disk /d/a.vhdx at 0:0: ", 0) == 0);
  // No half-restored VM: the new system goes from the simulator. The VM is
  // exited first (its waiting calls get the error), then the terminate
  // runs, on the simulator's thread.
  CHECK(eventually([&] { return eng.sim().oracle()["phoenix-fails"]["state"] != "running"; }));
  auto refused = vm.add_scsi("/d/b.vhdx", "", false, uvm::vm_access_type::noop);
  CHECK(refused.err().code == uvm::errc::vm_exited);
  CHECK(refused.err().text.find("failed to restore SCSI disk /d/a.vhdx") != std::string::npos);
  REQUIRE_FALSE(vm.close());
}

TEST_CASE("calls made while a restarted VM attaches its devices again wait for all of them",
          "[restore][engine]") {
  using namespace std::chrono_literals;
  host_dir host;
  uvm::engine eng{test_config()};
  auto created = eng.create_lcow(host.lcow("phoenix-waits"), on_failure());
  REQUIRE(created);
  auto vm = *created;
  REQUIRE_FALSE(vm.start());
  REQUIRE(vm.add_scsi("/d/a.vhdx", "/run/mounts/a", false, uvm::vm_access_type::noop));
  REQUIRE(vm.add_scsi("/d/b.vhdx", "/run/mounts/b", false, uvm::vm_access_type::noop));
  auto hcs_before = hcs_devices(eng, "phoenix-waits");
  auto engine_before = engine_devices(vm);

  // The restarted system runs, but its attaches stall.
  eng.sim().hold(uvm::hcs::call_kind::modify, true);
  eng.sim().crash("phoenix-waits");
  REQUIRE(eventually([&] { return restarted(vm, 1); }));

  // A guest call and a lookup made now (each from its own thread) are not
  // served on a VM without its disks.
  uvm::process_parameters params;
  params.command_args = {"sleep", "30"};
  auto proc = std::async(std::launch::async, [&] { return vm.create_process(params.to_json()); });
  auto found = std::async(std::launch::async, [&] { return vm.get_scsi_uvm_path("/d/b.vhdx"); });
  CHECK(proc.wait_for(300ms) == std::future_status::timeout);
  CHECK(found.wait_for(0ms) == std::future_status::timeout);
  CHECK(hcs_devices(eng, "phoenix-waits") != hcs_before);

  // Once the attaches complete, both are answered, on a VM that has them.
  eng.sim().hold(uvm::hcs::call_kind::modify, false);
  auto started = proc.get();
  REQUIRE(started);
  CHECK(hcs_devices(eng, "phoenix-waits") == hcs_before);
  CHECK(engine_devices(vm) == engine_before);
  auto b = found.get();
  REQUIRE(b);
  CHECK(*b == "/run/mounts/b");
  REQUIRE_FALSE(vm.close());
}

TEST_CASE("calls that wait on a restore that fails get its error", "[restore][engine]") {
  using namespace std::chrono_literals;
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = started_with_a_disk(eng, host, "phoenix-waits-fails");

  eng.sim().fail_next(uvm::hcs::call_kind::modify, 1, "phoenix-waits-fails");
  eng.sim().hold(uvm::hcs::call_kind::modify, true);
  eng.sim().crash("phoenix-waits-fails");
  REQUIRE(eventually([&] { return restarted(vm, 1); }));
  uvm::process_parameters params;
  params.command_args = {"true"};
  auto proc = std::async(std::launch::async, [&] { return vm.create_process(params.to_json()); });
  CHECK(proc.wait_for(300ms) == std::future_status::timeout);

  eng.sim().hold(uvm::hcs::call_kind::modify, false);
  auto refused = proc.get();
  REQUIRE_FALSE(refused);
  INFO(refused.err().text);
  CHECK(refused.err().code == uvm::errc::vm_exited);
  CHECK(refused.err().text.find("failed to restore SCSI disk /d/a.vhdx at 0:0: ") !=
        std::string::npos);
  CHECK(vm.info()->state == uvm::lifecycle_state::exited);
  REQUIRE_FALSE(vm.close());
}

TEST_CASE("packed VPMEM layers come back at their offsets on one device",
          "[restore][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto opts = host.lcow("phoenix-packed");
  opts.vpmem_no_multi_mapping = false;
  auto policy = on_failure();
  policy.max_restarts = 2; // the second restart is the last
  auto created = eng.create_lcow(opts, policy);
  REQUIRE(created);
  auto vm = *created;
  REQUIRE_FALSE(vm.start());
  for (const char* name : {"layers/p/1.vhd", "layers/p/2.vhd", "layers/p/3.vhd"}) {
    REQUIRE(vm.add_vpmem(make_file(host, name)));
  }
  auto before = hcs_devices(eng, "phoenix-packed");
  REQUIRE(before["vpmem"].size() == 1);
  auto engine_before = engine_devices(vm);

  eng.sim().crash("phoenix-packed");
  REQUIRE(eventually([&] { return restarted(vm, 1); }));
  CHECK(eventually([&] {
    return hcs_devices(eng, "phoenix-packed") == before && engine_devices(vm) == engine_before;
  }));

  // Without the layer that made the device, it cannot be made again: the
  // restart fails and names the device.
  REQUIRE_FALSE(vm.remove_vpmem(host.path("layers/p/1.vhd")));
  eng.sim().crash("phoenix-packed");
  REQUIRE(eventually([&] {
    auto info = vm.info();
    return info && info->restarts == 2 && info->state == uvm::lifecycle_state::exited;
  }));
  CHECK(vm.exit_error().text.rfind("failed to restore VPMEM device 0@", 0) == 0);
  REQUIRE_FALSE(vm.close());
}
