// Live resizing on the simulator: a running VM's memory and processor
// limits change, the simulated HCS holds the new values, and impossible
// sizes give HCS's errors through hcsshim's SystemError text.
#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using uvm::test::host_dir;

namespace {

uvm::engine_config test_config() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  cfg.call_timeout = std::chrono::seconds(20);
  return cfg;
}

} // namespace

TEST_CASE("a running VM's memory changes, and the simulator holds the new size",
          "[resize][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.create_lcow(host.lcow("resize-mem"));
  REQUIRE(vm);
  // Not before it runs, with the VM's state in the words.
  auto early = vm->update_memory(2048ULL << 20);
  CHECK(early.code == uvm::errc::invalid_state);
  CHECK(early.text == "utility VM resize-mem is created: cannot update its memory");
  REQUIRE_FALSE(vm->start());
  CHECK(vm->info()->memory_size_in_mb == 1024);

  REQUIRE_FALSE(vm->update_memory(4096ULL << 20));
  CHECK(vm->info()->memory_size_in_mb == 4096);
  CHECK(eng.sim().oracle()["resize-mem"]["memory_mb"] == 4096);
  auto stats = vm->stats();
  REQUIRE(stats);
  CHECK(stats->vm_memory.assigned_memory == 4096ULL * 256);

  // An odd MB count is rounded up, as at create.
  REQUIRE_FALSE(vm->update_memory(2047ULL << 20));
  CHECK(vm->info()->memory_size_in_mb == 2048);

  auto small = vm->update_memory(16ULL << 20);
  CHECK(small.code == uvm::errc::hcs_failure);
  CHECK(small.text ==
        "hcsshim::System::Modify resize-mem: memory size 16 MB is below the minimum of 32 MB\n"
        "(extra info: "
        R"({"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","Settings":16}))");
  CHECK(vm->info()->memory_size_in_mb == 2048);
  CHECK(eng.sim().oracle()["resize-mem"]["memory_mb"] == 2048);
  REQUIRE_FALSE(vm->close());
}

TEST_CASE("a running VM's processor limits change; its processor count cannot on HCS",
          "[resize][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.create_lcow(host.lcow("resize-cpu"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());

  uvm::cpu_limits limits;
  limits.limit = 50000;
  limits.weight = 300;
  REQUIRE_FALSE(vm->update_cpu_limits(limits));
  CHECK(eng.sim().oracle()["resize-cpu"]["processor_limits"]["Limit"] == 50000);
  CHECK(eng.sim().oracle()["resize-cpu"]["processor_limits"]["Weight"] == 300);

  uvm::cpu_limits too_much;
  too_much.weight = 20000;
  auto e = vm->update_cpu_limits(too_much);
  CHECK(e.code == uvm::errc::hcs_failure);
  CHECK(e.text.rfind("hcsshim::System::Modify resize-cpu: processor Weight 20000 is out of range "
                     "(0-10000)\n(extra info: ",
                     0) == 0);

  // Hyper-V does not add processors to a running VM; the limits asked with
  // the count are not applied either.
  uvm::cpu_limits count;
  count.count = 4;
  count.weight = 100;
  auto c = vm->update_cpu_limits(count);
  CHECK(c.code == uvm::errc::hcs_failure);
  CHECK(c.text.rfind("hcsshim::System::Modify resize-cpu: the processor count of a running "
                     "system cannot change (asked for 4)",
                     0) == 0);
  CHECK(eng.sim().oracle()["resize-cpu"]["processor_limits"]["Weight"] == 300);
  CHECK(vm->info()->processor_count == 2);
  REQUIRE_FALSE(vm->close());
}
