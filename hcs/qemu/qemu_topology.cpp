#include "hcs/qemu/qemu_topology.hpp"

#include <algorithm>
#include <cstdint>

#include "hcs/hcs_json.hpp"
#include "messages/qemu_pci_layout.hpp"

namespace uvm::hcs::qemu {

namespace {

// The device-memory region is counted in MB; round it up to 128 MiB (Linux's
// memory block) so that VPMEM devices placed after it stay aligned.
constexpr uint64_t linux_memory_block_mb = 128;

std::string mb(uint64_t n) {
  return std::to_string(n) + "M";
}

uint64_t round_up(uint64_t n, uint64_t unit) {
  return (n + unit - 1) / unit * unit;
}

} // namespace

topology_plan read_topology(const nlohmann::json& vm) {
  topology_plan plan;
  if (const auto* topo = object_member(vm, "ComputeTopology")) {
    if (const auto* mem = object_member(*topo, "Memory")) {
      plan.memory_mb = std::max<uint64_t>(uint_member(*mem, "SizeInMB"), 64);
    }
    if (const auto* cpu = object_member(*topo, "Processor")) {
      plan.processors =
          static_cast<uint32_t>(std::clamp<int64_t>(int_member(*cpu, "Count"), 1, UINT32_MAX));
    }
  }
  plan.hotplug_mb = round_up(std::max(min_growth_limit_mb, 2 * plan.memory_mb) - plan.memory_mb,
                             linux_memory_block_mb);
  plan.max_processors = std::max(min_max_processors, plan.processors);
  return plan;
}

std::vector<std::string> topology_argv(const topology_plan& plan, uint64_t device_memory_mb) {
  // slots= is for VPMEM's devices; virtio-mem needs only maxmem's room.
  auto maxmem = plan.memory_mb + plan.hotplug_mb + device_memory_mb;
  return {"-m",
          std::to_string(plan.memory_mb) + ",slots=" + std::to_string(qemu_layout::vpmem_devices) +
              ",maxmem=" + mb(maxmem),
          "-smp",
          std::to_string(plan.processors) + ",maxcpus=" + std::to_string(plan.max_processors)};
}

std::vector<std::string> virtio_mem_argv(const topology_plan& plan, const std::string& addr) {
  return {"-object",
          "memory-backend-ram,id=" + std::string{virtio_mem_id} +
              "-mem,size=" + mb(plan.hotplug_mb),
          "-device",
          "virtio-mem-pci,id=" + std::string{virtio_mem_id} + ",memdev=" + virtio_mem_id +
              "-mem,requested-size=0,block-size=" + mb(memory_block_mb) + ",addr=" + addr};
}

std::string memory_size_problem(const topology_plan& plan, uint64_t size_mb) {
  auto size = "memory size " + std::to_string(size_mb) + " MB";
  if (size_mb < plan.memory_mb) {
    return size + " is below the VM's boot size of " + std::to_string(plan.memory_mb) +
           " MB: the qemu backend adds and removes memory above the boot size only (virtio-mem)";
  }
  if (size_mb > plan.max_memory_mb()) {
    return size + " is beyond the VM's maximum of " + std::to_string(plan.max_memory_mb()) +
           " MB (the qemu backend lets a VM grow to " + std::to_string(min_growth_limit_mb) +
           " MB or twice its boot size, whichever is larger)";
  }
  if (size_mb % memory_block_mb != 0) {
    return size + " is not a multiple of " + std::to_string(memory_block_mb) + " MB";
  }
  return {};
}

std::string processor_count_problem(const topology_plan& plan, uint32_t count) {
  auto asked = "processor count " + std::to_string(count);
  if (count < plan.processors) {
    return asked + " is below the VM's boot count of " + std::to_string(plan.processors) +
           ": the qemu backend removes only the processors it added";
  }
  if (count > plan.max_processors) {
    return asked + " is beyond the VM's maximum of " + std::to_string(plan.max_processors) +
           " (the qemu backend boots with room for " + std::to_string(min_max_processors) +
           " processors or the boot count, whichever is larger)";
  }
  return {};
}

} // namespace uvm::hcs::qemu
