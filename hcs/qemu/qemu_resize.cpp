// The QMP side of live resizing (qemu_topology.hpp): virtio-mem's requested
// size, processors hot-added and removed, processor limits refused.
#include <algorithm>
#include <thread>
#include <tuple>
#include <vector>

#include "hcs/qemu/qemu_vm.hpp"

namespace uvm::hcs::qemu {

namespace {

using std::chrono::milliseconds;

constexpr uint64_t mib = 1024 * 1024;
const std::string virtio_mem_path = std::string{"/machine/peripheral/"} + virtio_mem_id;

// Processor n (from 0, the boot processors first).
std::string cpu_id(uint32_t number) {
  return "cpu" + std::to_string(number);
}

void check_request_type(const nlohmann::json& request, const std::string& what) {
  auto type = string_member(request, "RequestType");
  if (!type.empty() && !equal_ci(type, "Update")) {
    reject(hr::invalid_arg,
           "RequestType \"" + type + "\" is not supported for " + what + " (only Update)");
  }
}

const nlohmann::json& need_settings(const nlohmann::json& request, const std::string& what) {
  const auto* settings = find_member(request, "Settings");
  if (settings == nullptr) {
    reject(hr::invalid_arg, "Update of " + what + " needs Settings");
  }
  return *settings;
}

} // namespace

call_result qemu_vm::modify_topology(const std::string& rest, const nlohmann::json& request) {
  if (equal_ci(rest, "Memory/SizeInMB")) {
    check_request_type(request, "memory");
    const auto& settings = need_settings(request, "memory");
    if (!settings.is_number_unsigned()) {
      reject(hr::invalid_json, "member Settings is not an unsigned integer");
    }
    return set_memory(settings.get<uint64_t>());
  }
  if (equal_ci(rest, "Processor")) {
    check_request_type(request, "the processor count");
    const auto& settings = need_settings(request, "the processor count");
    if (!settings.is_object()) {
      reject(hr::invalid_json, "member Settings is not an object");
    }
    auto count = int_member(settings, "Count");
    if (count < 1 || count > INT32_MAX) {
      reject(hr::invalid_arg, "processor count " + std::to_string(count) + " is out of range");
    }
    return set_processor_count(static_cast<uint32_t>(count));
  }
  if (equal_ci(rest, "Processor/Limits")) {
    check_request_type(request, "processor limits");
    const auto& settings = need_settings(request, "processor limits");
    if (!settings.is_object()) {
      reject(hr::invalid_json, "member Settings is not an object");
    }
    // 0 keeps a value (omitempty): a request that changes nothing succeeds.
    for (const char* name : {"Limit", "Weight", "Reservation", "MaximumFrequencyMHz"}) {
      if (auto value = uint_member(settings, name); value != 0) {
        reject(hr::not_impl, "the qemu backend cannot apply processor limits (" +
                                 std::string{name} + " " + std::to_string(value) +
                                 "): QEMU runs without a cgroup of its own");
      }
    }
    return call_result::success();
  }
  reject(hr::invalid_arg, "unknown ResourcePath \"VirtualMachine/ComputeTopology/" + rest + "\"");
}

// Sets virtio-mem's requested size and waits until the guest has plugged
// or unplugged that much; a guest that does not get there in time (no
// driver, memory it cannot give back) is asked for the old size again.
call_result qemu_vm::set_memory(uint64_t size_mb) {
  check_alive("update the memory of");
  if (auto problem = memory_size_problem(topology, size_mb); !problem.empty()) {
    return call_result::failure(hr::invalid_arg, problem);
  }
  auto request = [&](uint64_t mb) {
    return qmp->execute("qom-set",
                        {{"path", virtio_mem_path},
                         {"property", "requested-size"},
                         {"value", (mb - topology.memory_mb) * mib}},
                        config->qmp_timeout);
  };
  if (auto r = request(size_mb); !r) {
    return qmp_error("set the memory size", r.err());
  }
  auto target = (size_mb - topology.memory_mb) * mib;
  auto due = std::chrono::steady_clock::now() + config->qmp_timeout;
  uint64_t plugged = 0;
  while (true) {
    auto size = qmp->execute("qom-get", {{"path", virtio_mem_path}, {"property", "size"}},
                             config->qmp_timeout);
    if (!size) {
      return qmp_error("read the memory size", size.err());
    }
    plugged = size->get<uint64_t>();
    if (plugged == target || std::chrono::steady_clock::now() >= due) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  if (plugged != target) {
    request(memory_mb);
    return call_result::failure(
        hr::fail, "the guest did not reach " + std::to_string(size_mb) + " MB of memory within " +
                      std::to_string(config->qmp_timeout.count()) + " ms (it has " +
                      std::to_string(topology.memory_mb + plugged / mib) +
                      " MB; it needs the virtio_mem driver, and memory in use cannot be removed)");
  }
  memory_mb = size_mb;
  return call_result::success();
}

// device_del of a processor, then its slot free again: QEMU 7.2 announces
// only the processor's APIC in DEVICE_DELETED, so its slot is what tells.
call_result qemu_vm::unplug_cpu(const std::string& device_id) {
  if (auto r = execute("device_del", {{"id", device_id}}); !r.ok()) {
    return r;
  }
  auto path = "/machine/peripheral/" + device_id;
  auto due = std::chrono::steady_clock::now() + config->unplug_timeout;
  while (true) {
    auto slots =
        qmp->execute("query-hotpluggable-cpus", nlohmann::json::object(), config->qmp_timeout);
    if (!slots) {
      return qmp_error("list processor slots", slots.err());
    }
    if (std::none_of(slots->begin(), slots->end(),
                     [&](const auto& slot) { return slot.value("qom-path", "") == path; })) {
      return call_result::success();
    }
    if (std::chrono::steady_clock::now() >= due) {
      return call_result::failure(hr::fail,
                                  "the guest did not release processor " + device_id + " within " +
                                      std::to_string(config->unplug_timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

// Adds processors in the free slots QEMU lists, each
// acknowledged by the guest's ACPI (_OST); removes added ones, highest
// first, each released by the guest.
call_result qemu_vm::set_processor_count(uint32_t count) {
  check_alive("change the processor count of");
  if (auto problem = processor_count_problem(topology, count); !problem.empty()) {
    return call_result::failure(hr::invalid_arg, problem);
  }
  auto now = topology.processors + static_cast<uint32_t>(added_cpus.size());
  while (now > count) {
    auto number = *added_cpus.rbegin();
    if (auto r = unplug_cpu(cpu_id(number)); !r.ok()) {
      return r;
    }
    added_cpus.erase(number);
    --now;
  }
  if (now == count) {
    return call_result::success();
  }
  auto slots =
      qmp->execute("query-hotpluggable-cpus", nlohmann::json::object(), config->qmp_timeout);
  if (!slots) {
    return qmp_error("list processor slots", slots.err());
  }
  std::vector<nlohmann::json> free;
  for (const auto& slot : *slots) {
    if (!slot.contains("qom-path")) {
      free.push_back(slot);
    }
  }
  // Lowest socket, core and thread first, as QEMU numbers its processors.
  auto place = [](const nlohmann::json& slot) {
    const auto& p = slot["props"];
    return std::make_tuple(p.value("socket-id", 0), p.value("die-id", 0), p.value("core-id", 0),
                           p.value("thread-id", 0));
  };
  std::sort(free.begin(), free.end(),
            [&](const auto& a, const auto& b) { return place(a) < place(b); });
  for (const auto& slot : free) {
    if (now == count) {
      break;
    }
    auto id = cpu_id(now);
    auto args = slot["props"];
    args["driver"] = slot["type"];
    args["id"] = id;
    auto mark = qmp->next_event();
    if (auto r = execute("device_add", args); !r.ok()) {
      return r;
    }
    added_cpus.insert(now);
    ++now;
    auto accepted = qmp->wait_event(
        "ACPI_DEVICE_OST", mark,
        [&](const nlohmann::json& d) { return d["info"].value("device", "") == id; },
        config->unplug_timeout);
    if (!accepted) {
      return call_result::failure(hr::fail, "the guest did not take processor " + id + ": " +
                                                accepted.err().text);
    }
    if (auto status = accepted->data["info"].value("status", 0); status != 0) {
      return call_result::failure(hr::fail, "the guest refused processor " + id +
                                                " (ACPI _OST status " + std::to_string(status) +
                                                ")");
    }
  }
  if (now != count) {
    return call_result::failure(hr::fail, "QEMU has no free processor slot for processor " +
                                              std::to_string(now + 1));
  }
  return call_result::success();
}

} // namespace uvm::hcs::qemu
