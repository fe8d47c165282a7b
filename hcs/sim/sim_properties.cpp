#include "hcs/sim/sim_properties.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "gojson/go_json.hpp"
#include "hcs/backend.hpp"
#include "hcs/hcs_json.hpp"

namespace uvm::hcs::sim {

namespace {

using ticks = std::chrono::duration<int64_t, std::ratio<1, 10000000>>; // 100 ns
constexpr uint64_t mib = 1024 * 1024;

// Known property types (v1 and v2) the simulator accepts but has nothing for.
constexpr std::array<const char*, 7> unmodelled_types = {
    "GuestMemory",     "ProcessList",       "TerminateOnLastHandleClosed", "SharedMemoryRegion",
    "GuestConnection", "ICHeartbeatStatus", "MappedVirtualDisk",
};

// RFC 3339 in UTC with 100 ns precision, as HCS writes timestamps.
std::string timestamp(std::chrono::system_clock::time_point at) {
  auto since_epoch = std::chrono::duration_cast<ticks>(at.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  auto fraction = (since_epoch - seconds).count();
  std::time_t time = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&time, &utc);
  std::array<char, 64> text{};
  std::snprintf(text.data(), text.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%07lldZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                utc.tm_sec, static_cast<long long>(fraction));
  return text.data();
}

const char* hcs_state(sim_state state) {
  switch (state) {
  case sim_state::created:
    return "Created";
  case sim_state::running:
    return "Running";
  default:
    return "Stopped";
  }
}

struct wanted {
  bool statistics = false;
  bool memory = false;
};

wanted parse_query(const std::string& query) {
  auto body = parse_object(query, "query");
  wanted want;
  for (const auto& type : strings_member(body, "PropertyTypes")) {
    if (equal_ci(type, "Statistics")) {
      want.statistics = true;
    } else if (equal_ci(type, "Memory")) {
      want.memory = true;
    } else if (std::none_of(unmodelled_types.begin(), unmodelled_types.end(),
                            [&](const char* known) { return equal_ci(type, known); })) {
      reject(hr::invalid_arg, "unknown property type \"" + type + "\"");
    }
  }
  return want;
}

// The response is written straight into its text, in the member order and
// the encoding Go's encoding/json gives the same document (a stats call is
// the simulator's most frequent one; a tree per call was most of its cost).
class writer {
public:
  explicit writer(std::string& out) : out_(out) {}
  writer& open() {
    out_ += '{';
    first_ = true;
    return *this;
  }
  writer& close() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  writer& key(std::string_view name) {
    if (!first_) {
      out_ += ',';
    }
    first_ = false;
    gojson::go_append_string(out_, name);
    out_ += ':';
    return *this;
  }
  writer& string(std::string_view name, std::string_view value) {
    key(name);
    gojson::go_append_string(out_, value);
    return *this;
  }
  writer& number(std::string_view name, uint64_t value) {
    key(name);
    out_ += std::to_string(value);
    return *this;
  }
  writer& object(std::string_view name) {
    key(name);
    return open();
  }

private:
  std::string& out_;
  bool first_ = true;
};

void write_statistics(writer& w, const sim_system& system,
                      std::chrono::system_clock::time_point now) {
  const bool running = system.state == sim_state::running;
  const auto uptime =
      running
          ? std::max<int64_t>(0, std::chrono::duration_cast<ticks>(now - system.started_at).count())
          : 0;
  // A mostly idle guest: 5% of each processor, 70% of it in user mode.
  const auto total = static_cast<uint64_t>(uptime) * system.processor_count / 20;
  const auto user = total * 7 / 10;
  const auto commit = system.memory_mb * mib / 4;
  w.object("Statistics").string("Timestamp", timestamp(now));
  if (running) {
    w.string("ContainerStartTime", timestamp(system.started_at));
  }
  w.number("Uptime100ns", static_cast<uint64_t>(uptime));
  w.object("Processor")
      .number("TotalRuntime100ns", total)
      .number("RuntimeUser100ns", user)
      .number("RuntimeKernel100ns", total - user)
      .close();
  w.object("Memory")
      .number("MemoryUsageCommitBytes", commit)
      .number("MemoryUsageCommitPeakBytes", commit)
      .number("MemoryUsagePrivateWorkingSetBytes", commit / 2)
      .close();
  w.close();
}

void write_memory(writer& w, const sim_system& system) {
  // AssignedMemory counts 4 KiB pages; AvailableMemory is in MB.
  w.object("Memory")
      .number("VirtualNodeCount", 1)
      .object("VirtualMachineMemory")
      .number("AvailableMemory", system.memory_mb * 3 / 4)
      .number("AssignedMemory", system.memory_mb * 256)
      .close()
      .close();
}

} // namespace

std::string properties_response(const std::string& id, const sim_system& system,
                                const std::string& query,
                                std::chrono::system_clock::time_point now) {
  const auto want = parse_query(query);
  std::string out;
  out.reserve(512);
  writer w{out};
  w.open().string("Id", id).string("SystemType", "VirtualMachine").string("Owner", system.owner);
  if (!system.runtime_os.empty()) {
    w.string("RuntimeOsType", system.runtime_os);
  }
  w.string("RuntimeId", system.runtime_id).string("State", hcs_state(system.state));
  if (want.memory) {
    write_memory(w, system);
  }
  if (want.statistics) {
    write_statistics(w, system, now);
  }
  w.close();
  return out;
}

} // namespace uvm::hcs::sim
