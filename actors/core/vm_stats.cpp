#include "actors/core/vm_stats.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "gojson/json_view.hpp"

namespace uvm {

namespace {

using gojson::json_object;
using gojson::json_view;

// `x` as a T when T holds it, else zero (as Go leaves a field it cannot
// fill).
template <class T>
T fitted(uint64_t x) {
  return x <= static_cast<uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(x) : T{};
}

template <class T>
T fitted(int64_t x) {
  if (x >= 0) {
    return fitted<T>(static_cast<uint64_t>(x));
  }
  return std::is_signed_v<T> && x >= static_cast<int64_t>(std::numeric_limits<T>::lowest())
             ? static_cast<T>(x)
             : T{};
}

template <class T>
T fitted(double x) {
  // max() as a double rounds up to 2^64 or 2^31, itself out of range:
  // hence the strict comparison.
  if (!(x >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
        x < static_cast<double>(std::numeric_limits<T>::max()))) {
    return T{};
  }
  return static_cast<T>(x);
}

// A number member as T: an integer T holds, or a number with a fraction
// or exponent within T's range (truncated); anything else (missing, null,
// another kind, out of range) reads as zero.
template <class T>
T number(const json_object& obj, std::string_view name) {
  const json_view* v = obj.find_ci(name);
  if (v == nullptr) {
    return T{};
  }
  switch (v->type()) {
  case json_view::kind::number_unsigned:
    return fitted<T>(v->get_uint());
  case json_view::kind::number_integer:
    return fitted<T>(v->get_int());
  case json_view::kind::number_float:
    return fitted<T>(v->get_double());
  default:
    return T{};
  }
}

bool flag(const json_object& obj, std::string_view name) {
  const json_view* v = obj.find_ci(name);
  return v != nullptr && v->get_bool();
}

// The members of `name` when it is an object, else none.
json_object object_member(const json_object& obj, std::string_view name) {
  const json_view* v = obj.find_ci(name);
  return v != nullptr && v->is_object() ? json_object{*v} : json_object{};
}

} // namespace

vm_stats parse_vm_stats(const std::string& properties_json) {
  vm_stats out;
  json_object props;
  if (!gojson::view_json(properties_json, &props)) {
    return out;
  }
  const auto statistics = object_member(props, "Statistics");
  out.processor_total_runtime_ns =
      number<uint64_t>(object_member(statistics, "Processor"), "TotalRuntime100ns") * 100;
  out.memory_working_set_bytes =
      number<uint64_t>(object_member(statistics, "Memory"), "MemoryUsagePrivateWorkingSetBytes");
  const json_view* memory_view = props.find_ci("Memory");
  if (memory_view != nullptr && memory_view->is_object()) {
    const json_object memory{*memory_view};
    out.has_vm_memory = true;
    out.memory_virtual_node_count = number<uint32_t>(memory, "VirtualNodeCount");
    const auto vmm = object_member(memory, "VirtualMachineMemory");
    out.vm_memory.available_memory = number<int32_t>(vmm, "AvailableMemory");
    out.vm_memory.available_memory_buffer = number<int32_t>(vmm, "AvailableMemoryBuffer");
    out.vm_memory.reserved_memory = number<uint64_t>(vmm, "ReservedMemory");
    out.vm_memory.assigned_memory = number<uint64_t>(vmm, "AssignedMemory");
    out.vm_memory.slp_active = flag(vmm, "SlpActive");
    out.vm_memory.balancing_enabled = flag(vmm, "BalancingEnabled");
    out.vm_memory.dm_operation_in_progress = flag(vmm, "DmOperationInProgress");
  }
  return out;
}

} // namespace uvm
