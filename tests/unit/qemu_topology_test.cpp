// Live resizing on QEMU, the pure half: how far a VM may grow and shrink,
// and the command line that leaves room for it.
#include <catch2/catch.hpp>

#include "hcs/qemu/qemu_topology.hpp"

using namespace uvm::hcs::qemu;
using nlohmann::json;

namespace {

topology_plan of(uint64_t memory_mb, int64_t processors) {
  return read_topology(
      json{{"ComputeTopology",
            {{"Memory", {{"SizeInMB", memory_mb}}}, {"Processor", {{"Count", processors}}}}}});
}

} // namespace

TEST_CASE("a VM grows to 4096 MB or twice its boot size, in 128 MiB regions", "[qemu]") {
  auto small = of(512, 1);
  CHECK(small.memory_mb == 512);
  CHECK(small.hotplug_mb == 3584);
  CHECK(small.max_memory_mb() == 4096);
  auto big = of(6000, 2);
  CHECK(big.hotplug_mb == 6016); // 6000 rounded up to 128 MiB
  CHECK(big.max_memory_mb() == 12016);
  auto absent = read_topology(json::object());
  CHECK(absent.memory_mb == 1024);
  CHECK(absent.processors == 1);
  CHECK(absent.max_processors == 8);
  CHECK(of(256, 12).max_processors == 12);
  CHECK(of(256, -3).processors == 1);
}

TEST_CASE("memory and processor counts a running QEMU VM cannot have", "[qemu]") {
  auto plan = of(512, 2);
  CHECK(memory_size_problem(plan, 512).empty());
  CHECK(memory_size_problem(plan, 1024).empty());
  CHECK(memory_size_problem(plan, 4096).empty());
  CHECK(memory_size_problem(plan, 510) ==
        "memory size 510 MB is below the VM's boot size of 512 MB: the qemu backend adds and "
        "removes memory above the boot size only (virtio-mem)");
  CHECK(memory_size_problem(plan, 4098) ==
        "memory size 4098 MB is beyond the VM's maximum of 4096 MB (the qemu backend lets a VM "
        "grow to 4096 MB or twice its boot size, whichever is larger)");
  CHECK(memory_size_problem(plan, 1025) == "memory size 1025 MB is not a multiple of 2 MB");
  CHECK(processor_count_problem(plan, 2).empty());
  CHECK(processor_count_problem(plan, 8).empty());
  CHECK(processor_count_problem(plan, 1) ==
        "processor count 1 is below the VM's boot count of 2: the qemu backend removes only the "
        "processors it added");
  CHECK(processor_count_problem(plan, 9) ==
        "processor count 9 is beyond the VM's maximum of 8 (the qemu backend boots with room for "
        "8 processors or the boot count, whichever is larger)");
}

TEST_CASE("the command line leaves room for growth beside VPMEM", "[qemu]") {
  auto plan = of(512, 2);
  CHECK(topology_argv(plan, 0) ==
        std::vector<std::string>{"-m", "512,slots=16,maxmem=4096M", "-smp", "2,maxcpus=8"});
  CHECK(topology_argv(plan, 1024)[1] == "512,slots=16,maxmem=5120M");
  CHECK(
      virtio_mem_argv(plan, "0x2.0x1") ==
      std::vector<std::string>{
          "-object", "memory-backend-ram,id=vmem0-mem,size=3584M", "-device",
          "virtio-mem-pci,id=vmem0,memdev=vmem0-mem,requested-size=0,block-size=2M,addr=0x2.0x1"});
}
