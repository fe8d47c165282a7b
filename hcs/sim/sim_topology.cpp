#include "hcs/sim/sim_topology.hpp"

#include <string>

#include "hcs/hcs_json.hpp"
#include "messages/hcs_types.hpp"

namespace uvm::hcs::sim {

namespace {

// Hyper-V's range for a VM's memory.
constexpr uint64_t min_memory_mb = 32;
constexpr uint64_t max_memory_mb = 12ULL * 1024 * 1024;
constexpr uint64_t max_limit = 100000; // Limit and Reservation: 100% of the host
constexpr uint64_t max_weight = 10000;

void check_request_type(const gojson::json_object& body, const std::string& what) {
  std::string decoded;
  auto type = string_member(body, "RequestType", decoded);
  if (!type.empty() && !equal_ci(type, "Update")) {
    reject(hr::invalid_arg, "RequestType \"" + std::string(type) + "\" is not supported for " +
                                what + " (only Update)");
  }
}

const gojson::json_view& need_settings(const gojson::json_object& body, const std::string& what) {
  const auto* settings = find_member(body, "Settings");
  if (settings == nullptr) {
    reject(hr::invalid_arg, "Update of " + what + " needs Settings");
  }
  return *settings;
}

void update_memory(sim_system& system, const gojson::json_object& body) {
  const std::string what = "memory";
  check_request_type(body, what);
  const auto& settings = need_settings(body, what);
  if (!settings.is_number_unsigned()) {
    reject(hr::invalid_json, "member Settings is not an unsigned integer");
  }
  const auto mb = settings.get_uint();
  const auto size = "memory size " + std::to_string(mb) + " MB";
  if (mb < min_memory_mb) {
    reject(hr::invalid_arg,
           size + " is below the minimum of " + std::to_string(min_memory_mb) + " MB");
  }
  if (mb > max_memory_mb) {
    reject(hr::invalid_arg,
           size + " is beyond the maximum of " + std::to_string(max_memory_mb) + " MB");
  }
  if (mb % 2 != 0) {
    reject(hr::invalid_arg, size + " is not a multiple of 2 MB");
  }
  system.memory_mb = mb;
}

uint64_t limit_member(const gojson::json_object& limits, std::string_view name, uint64_t max) {
  const auto value = uint_member(limits, name);
  if (value > max) {
    reject(hr::invalid_arg, "processor " + std::string(name) + " " + std::to_string(value) +
                                " is out of range (0-" + std::to_string(max) + ")");
  }
  return value;
}

void update_limits(sim_system& system, const gojson::json_object& body) {
  const std::string what = "processor limits";
  check_request_type(body, what);
  const auto& settings = need_settings(body, what);
  if (!settings.is_object()) {
    reject(hr::invalid_json, "member Settings is not an object");
  }
  const gojson::json_object limits{settings};
  auto next = system.processor_limits;
  auto keep_or = [](uint64_t asked, auto current) { return asked != 0 ? asked : current; };
  next.limit = keep_or(limit_member(limits, "Limit", max_limit), next.limit);
  next.weight = keep_or(limit_member(limits, "Weight", max_weight), next.weight);
  next.reservation = keep_or(limit_member(limits, "Reservation", max_limit), next.reservation);
  next.maximum_frequency_mhz = static_cast<uint32_t>(
      keep_or(limit_member(limits, "MaximumFrequencyMHz", UINT32_MAX), next.maximum_frequency_mhz));
  system.processor_limits = next;
}

void update_processor(const gojson::json_object& body) {
  const std::string what = "the processor count";
  check_request_type(body, what);
  const auto& settings = need_settings(body, what);
  if (!settings.is_object()) {
    reject(hr::invalid_json, "member Settings is not an object");
  }
  const auto count = uint_member(gojson::json_object{settings}, "Count");
  reject(hr::not_supported, "the processor count of a running system cannot change (asked for " +
                                std::to_string(count) + ")");
}

} // namespace

void modify_topology(sim_system& system, std::string_view rest, const gojson::json_object& body) {
  if (equal_ci(rest, "Memory/SizeInMB")) {
    update_memory(system, body);
  } else if (equal_ci(rest, "Processor/Limits")) {
    update_limits(system, body);
  } else if (equal_ci(rest, "Processor")) {
    update_processor(body);
  } else {
    reject(hr::invalid_arg,
           "unknown ResourcePath \"" + std::string(topology_prefix) + std::string(rest) + "\"");
  }
}

} // namespace uvm::hcs::sim
