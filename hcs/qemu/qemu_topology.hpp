// Live resizing on the QEMU backend (hcsshim's UpdateMemory and the
// processor count of UpdateCPULimits), the pure half:
//
//   memory      the boot size is plain RAM; above it sits one virtio-mem
//               device (2 MiB blocks) whose requested size the backend sets
//               with qom-set. A VM grows up to max(4096 MB, twice its boot
//               size) and shrinks back down to its boot size, not below.
//   processors  -smp N,maxcpus=M with M = max(8, N); the backend device_adds
//               the CPU type query-hotpluggable-cpus reports and the guest's
//               /init onlines it. Only processors added so are removed.
//
// Processor limits (Limit, Weight, Reservation) need a cgroup around QEMU,
// which the backend does not have: they are refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::hcs::qemu {

inline constexpr uint64_t min_growth_limit_mb = 4096;
inline constexpr uint32_t min_max_processors = 8;
inline constexpr uint64_t memory_block_mb = 2; // virtio-mem's block size
inline constexpr const char* virtio_mem_id = "vmem0";

struct topology_plan {
  uint64_t memory_mb = 1024;   // boot RAM
  uint64_t hotplug_mb = 0;     // the virtio-mem region above it
  uint32_t processors = 1;     // at boot
  uint32_t max_processors = 1; // maxcpus
  uint64_t max_memory_mb() const { return memory_mb + hotplug_mb; }
};

// From the document's VirtualMachine object (ComputeTopology, HCS's
// case-insensitive names); absent values take HCS's defaults.
topology_plan read_topology(const nlohmann::json& vm);

// The -m and -smp arguments; `device_memory_mb` is the room VPMEM needs in
// the device-memory region (0 for none).
std::vector<std::string> topology_argv(const topology_plan& plan, uint64_t device_memory_mb);

// The virtio-mem device (-object and -device) at PCI address `addr`.
std::vector<std::string> virtio_mem_argv(const topology_plan& plan, const std::string& addr);

// Why a running VM cannot have `size_mb` of memory; empty when it can.
std::string memory_size_problem(const topology_plan& plan, uint64_t size_mb);

// Why a running VM cannot have `count` processors; empty when it can.
std::string processor_count_problem(const topology_plan& plan, uint32_t count);

} // namespace uvm::hcs::qemu
