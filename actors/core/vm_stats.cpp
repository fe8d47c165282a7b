#include "actors/core/vm_stats.hpp"

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"

namespace uvm {

namespace {

template <class T>
T member(const nlohmann::json& obj, std::string_view name) {
  if (!obj.is_object()) {
    return T{};
  }
  auto* v = gojson::find_ci(obj, name);
  if (v == nullptr || v->is_null()) {
    return T{};
  }
  return v->get<T>();
}

const nlohmann::json& object_member(const nlohmann::json& obj, std::string_view name) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!obj.is_object()) {
    return empty;
  }
  auto* v = gojson::find_ci(obj, name);
  return v != nullptr && v->is_object() ? *v : empty;
}

} // namespace

vm_stats parse_vm_stats(const std::string& properties_json) {
  vm_stats out;
  auto props = nlohmann::json::parse(properties_json, nullptr, false);
  const auto& statistics = object_member(props, "Statistics");
  out.processor_total_runtime_ns =
      member<uint64_t>(object_member(statistics, "Processor"), "TotalRuntime100ns") * 100;
  out.memory_working_set_bytes =
      member<uint64_t>(object_member(statistics, "Memory"), "MemoryUsagePrivateWorkingSetBytes");
  auto* memory = props.is_object() ? gojson::find_ci(props, "Memory") : nullptr;
  if (memory != nullptr && memory->is_object()) {
    out.has_vm_memory = true;
    out.memory_virtual_node_count = member<uint32_t>(*memory, "VirtualNodeCount");
    const auto& vmm = object_member(*memory, "VirtualMachineMemory");
    out.vm_memory.available_memory = member<int32_t>(vmm, "AvailableMemory");
    out.vm_memory.available_memory_buffer = member<int32_t>(vmm, "AvailableMemoryBuffer");
    out.vm_memory.reserved_memory = member<uint64_t>(vmm, "ReservedMemory");
    out.vm_memory.assigned_memory = member<uint64_t>(vmm, "AssignedMemory");
    out.vm_memory.slp_active = member<bool>(vmm, "SlpActive");
    out.vm_memory.balancing_enabled = member<bool>(vmm, "BalancingEnabled");
    out.vm_memory.dm_operation_in_progress = member<bool>(vmm, "DmOperationInProgress");
  }
  return out;
}

} // namespace uvm
