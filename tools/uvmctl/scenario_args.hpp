// The arguments of scenario ops that are more than one plain member: HCS
// and HNS objects, the guest's process parameters, enumerations, the
// simulator's fault settings. Each reader checks types and ranges the way
// json_fields does and names the member in its error. Pure: the runner's
// ops execute what these return; the fuzz target calls them directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hcs/backend.hpp"
#include "messages/device_types.hpp"
#include "messages/errors.hpp"
#include "messages/guest_types.hpp"
#include "messages/options.hpp"
#include "messages/vm_types.hpp"
#include "tools/uvmctl/json_fields.hpp"

namespace uvm::cli {

// The longest duration an op accepts, in ms (sleep, latencies, a delayed
// crash): one day, so that a typo cannot hang a scenario for years.
constexpr int64_t max_duration_ms = 24 * 60 * 60 * 1000;

// A duration member in ms, 0..max_duration_ms.
std::chrono::milliseconds duration_ms(field_reader& r, const char* name,
                                      std::chrono::milliseconds fallback);

// "vm_access": 0/1/2 or "noop"/"group"/"individual"; absent = noop.
result<vm_access_type> vm_access_of(const nlohmann::json& line);
// "call": the simulator's call kind.
result<hcs::call_kind> call_of(const nlohmann::json& line);

// sim_fail: "count" failures of "call", or failures with "probability".
struct sim_fail_args {
  hcs::call_kind call{};
  uint32_t count = 1;
  bool by_probability = false;
  double probability = 0;
};
result<sim_fail_args> sim_fail_of(const nlohmann::json& line);

// sim_crash: now, after "after_calls" calls, or after "after_ms".
struct sim_crash_args {
  enum class when { now, after_calls, after_delay } when = when::now;
  uint32_t calls = 0;
  std::chrono::milliseconds delay{0};
};
result<sim_crash_args> sim_crash_of(const nlohmann::json& line);

// sim_latency: "ms", or "min_ms" + "max_ms".
struct latency_args {
  hcs::call_kind call{};
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max{0};
};
result<latency_args> latency_of(const nlohmann::json& line);

// "options" of add_vsmb: VirtualSmbShareOptions flags by their JSON names.
result<hcs::virtual_smb_share_options> vsmb_options_of(const nlohmann::json& line);
// "endpoints": HNS endpoint objects, or their ids.
result<std::vector<hcs::network_endpoint>> endpoints_of(const nlohmann::json& line);
// "device": {"Functions":[{"DeviceInstancePath","VirtualFunction"}]}.
result<hcs::virtual_pci_device> vpci_device_of(const nlohmann::json& line);
// "layers": [{"Id","Path","PathType","Cache"}].
result<std::vector<hcs::layer>> wcow_layers_of(const nlohmann::json& line);
// remove_plan9's "share" (add_plan9's result, or its name) or "name".
result<plan9_share_handle> plan9_share_of(const nlohmann::json& line);

// get_container_pipe_mapping's mount: "mount" {"source","destination"}, or
// those two members on the line itself.
struct pipe_mount {
  std::string source;
  std::string destination;
};
result<pipe_mount> pipe_mount_of(const nlohmann::json& line);

// create_container's settings: "settings" (an object or its JSON text), or
// a v2.1 document whose OCI process is "args" with "env" and "cwd".
result<std::string> container_settings(const nlohmann::json& line);

// create_process: the parameters, where it runs and what becomes of it.
struct process_args {
  process_parameters params;
  std::string container_id; // empty: in the VM, outside containers
  bool has_stdin = false;
  std::string stdin_text;
  bool detach = false;
  std::string name; // a detached process's name; empty: its pid
};
result<process_args> process_args_of(const nlohmann::json& line);
// "process": a detached process's name, or its pid.
result<std::string> process_name_of(const nlohmann::json& line);

// update_memory's size in bytes: "memory_mb" (MB, as MemorySizeInMB at
// create) or "bytes" (UpdateMemory's argument), exactly one of them.
result<uint64_t> memory_bytes_of(const nlohmann::json& line);
// update_cpu_limits: "count", "limit", "weight", "reservation",
// "maximum_frequency_mhz"; an absent member is 0 (left as it is).
result<cpu_limits> cpu_limits_of(const nlohmann::json& line);

} // namespace uvm::cli
