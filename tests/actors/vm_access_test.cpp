// VMAccessType through the engine (uvm-api.md §7.1) on the simulator with
// a principal: the ACL entry is on the host file while the disk is
// attached, stays while another ref holds it, and is gone after the last
// remove and at close; a grant that fails fails the add with the seed's
// words and takes no slot.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "hcs/vm_access.hpp"
#include "tests/actors/fixtures.hpp"

using uvm::hcs::acl_who;

namespace {

const uvm::hcs::vm_principal sim_vm{820001, 820000};

std::string entry(const std::string& path, acl_who who, uint32_t id) {
  auto e = uvm::hcs::acl_entry(path, who, id);
  REQUIRE(e);
  return *e;
}

std::string make_disk(const uvm::test::host_dir& host, const std::string& name) {
  auto path = host.path(name);
  std::ofstream{path} << "disk\n";
  return path;
}

} // namespace

TEST_CASE("an individual grant lives as long as the VM's last ref to the disk",
          "[vm_access][engine]") {
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  uvm::engine eng{cfg};
  eng.sim().set_vm_principal(sim_vm);
  auto disk = make_disk(host, "a.vhdx");
  auto vm = eng.create_lcow(host.lcow("acl"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(vm->add_scsi(disk, "/m/a", false, uvm::vm_access_type::individual));
  CHECK(entry(disk, acl_who::user, sim_vm.uid) == "rw-");
  // A repeat add grants again and shares the attachment.
  REQUIRE(vm->add_scsi(disk, "", true, uvm::vm_access_type::individual));
  REQUIRE_FALSE(vm->remove_scsi(disk));
  CHECK(entry(disk, acl_who::user, sim_vm.uid) == "rw-");
  REQUIRE_FALSE(vm->remove_scsi(disk));
  CHECK(entry(disk, acl_who::user, sim_vm.uid).empty());

  // A disk still attached at close loses its group entry then.
  REQUIRE(vm->add_scsi(disk, "", true, uvm::vm_access_type::group));
  CHECK(entry(disk, acl_who::group, sim_vm.group) == "r--");
  CHECK(entry(disk, acl_who::user, sim_vm.uid).empty());
  REQUIRE_FALSE(vm->close());
  CHECK(entry(disk, acl_who::group, sim_vm.group).empty());
}

TEST_CASE("a failed grant fails the add with the seed's words and takes no slot",
          "[vm_access][engine]") {
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  uvm::engine eng{cfg};
  eng.sim().set_vm_principal(sim_vm);
  auto vm = eng.create_lcow(host.lcow("refused"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  auto missing = host.path("missing.vhdx");
  auto r = vm->add_scsi(missing, "/m/x", false, uvm::vm_access_type::group);
  REQUIRE_FALSE(r);
  CHECK(r.err().text == "failed to grant VM access for SCSI mount: getfacl " + missing +
                            ": no such file or directory");
  // AddSCSIPhysicalDisk always grants Individual.
  auto p = vm->add_scsi_physical_disk(missing, "", false);
  REQUIRE_FALSE(p);
  CHECK(p.err().text == r.err().text);
  // Noop needs no file; the slot the failures did not take is its.
  auto noop = vm->add_scsi(missing, "", false, uvm::vm_access_type::noop);
  REQUIRE(noop);
  CHECK(noop->lun == 0);
  CHECK(eng.sim().oracle()["refused"]["scsi"].size() == 1);
  REQUIRE_FALSE(vm->close());
}

TEST_CASE("without a principal the simulator grants nothing", "[vm_access][engine]") {
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  uvm::engine eng{cfg};
  auto disk = make_disk(host, "b.vhdx");
  auto vm = eng.create_lcow(host.lcow("plain"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  CHECK(vm->add_scsi("/d/absent.vhdx", "", false, uvm::vm_access_type::individual));
  CHECK(vm->add_scsi(disk, "", false, uvm::vm_access_type::group));
  CHECK(entry(disk, acl_who::group, sim_vm.group).empty());
  REQUIRE_FALSE(vm->close());
}

TEST_CASE("a restarted VM's disks are granted again to its new system",
          "[vm_access][restore][engine]") {
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  uvm::engine eng{cfg};
  eng.sim().set_vm_principal(sim_vm);
  auto disk = make_disk(host, "kept.vhdx");
  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  policy.backoff_initial_ms = 10;
  auto vm = eng.create_lcow(host.lcow("acl-restart"), policy);
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(vm->add_scsi(disk, "/m/kept", false, uvm::vm_access_type::individual));
  CHECK(entry(disk, acl_who::user, sim_vm.uid) == "rw-");
  eng.sim().crash("acl-restart");
  REQUIRE(uvm::test::eventually([&] {
    auto info = vm->info();
    return info && info->restarts == 1 && info->state == uvm::lifecycle_state::running;
  }));
  // The old system's close let go of the entry; the restore grants it again.
  CHECK(uvm::test::eventually([&] { return entry(disk, acl_who::user, sim_vm.uid) == "rw-"; }));
  REQUIRE_FALSE(vm->remove_scsi(disk));
  CHECK(entry(disk, acl_who::user, sim_vm.uid).empty());
  REQUIRE_FALSE(vm->close());
}
