// The simulator's properties response, written without a tree: byte for
// byte what Go's encoding/json gives the same document (built here as a
// tree and encoded by go_dump), and what parse_vm_stats reads from it.
#include <catch2/catch.hpp>

#include "actors/core/vm_stats.hpp"
#include "gojson/go_json.hpp"
#include "hcs/sim/sim_properties.hpp"

using namespace uvm;
using namespace uvm::hcs;

namespace {

const std::chrono::system_clock::time_point t0{std::chrono::seconds(1700000000)};

// The document as a tree, member by member, as HCS's schema orders it.
std::string expected(const std::string& id, const sim_system& s, bool memory, bool statistics,
                     std::chrono::system_clock::time_point now, const std::string& started,
                     const std::string& stamp) {
  nlohmann::ordered_json out;
  out["Id"] = id;
  out["SystemType"] = "VirtualMachine";
  out["Owner"] = s.owner;
  if (!s.runtime_os.empty()) {
    out["RuntimeOsType"] = s.runtime_os;
  }
  out["RuntimeId"] = s.runtime_id;
  out["State"] = s.state == sim_state::running   ? "Running"
                 : s.state == sim_state::created ? "Created"
                                                 : "Stopped";
  if (memory) {
    out["Memory"] = {
        {"VirtualNodeCount", 1},
        {"VirtualMachineMemory",
         {{"AvailableMemory", s.memory_mb * 3 / 4}, {"AssignedMemory", s.memory_mb * 256}}}};
  }
  if (statistics) {
    const bool running = s.state == sim_state::running;
    const uint64_t uptime = running ? static_cast<uint64_t>((now - s.started_at).count() / 100) : 0;
    const uint64_t total = uptime * s.processor_count / 20;
    const uint64_t commit = s.memory_mb * 1024 * 1024 / 4;
    nlohmann::ordered_json st;
    st["Timestamp"] = stamp;
    if (running) {
      st["ContainerStartTime"] = started;
    }
    st["Uptime100ns"] = uptime;
    st["Processor"] = {{"TotalRuntime100ns", total},
                       {"RuntimeUser100ns", total * 7 / 10},
                       {"RuntimeKernel100ns", total - total * 7 / 10}};
    st["Memory"] = {{"MemoryUsageCommitBytes", commit},
                    {"MemoryUsageCommitPeakBytes", commit},
                    {"MemoryUsagePrivateWorkingSetBytes", commit / 2}};
    out["Statistics"] = st;
  }
  return gojson::go_dump(out);
}

sim_system system_in(sim_state state) {
  sim_system s;
  s.state = state;
  s.owner = "owner <&> \"quoted\" \xe2\x80\xa8";
  s.runtime_os = "linux";
  s.runtime_id = "5f0c4f6e-6a3e-4b5d-9c1e-0123456789ab";
  s.processor_count = 2;
  s.memory_mb = 1024;
  s.started_at = t0;
  return s;
}

} // namespace

TEST_CASE("sim properties response: Go's encoding of the same document", "[sim]") {
  const auto now = t0 + std::chrono::seconds(10);
  const std::string stamp = "2023-11-14T22:13:30.0000000Z";
  const std::string started = "2023-11-14T22:13:20.0000000Z";
  for (auto state : {sim_state::created, sim_state::running, sim_state::stopped}) {
    for (const char* query :
         {R"({"PropertyTypes":["Statistics","Memory"]})", R"({"PropertyTypes":["Memory"]})",
          R"({"PropertyTypes":["statistics"]})", "{}"}) {
      auto s = system_in(state);
      std::string q = query;
      bool memory = q.find("Memory") != std::string::npos;
      bool statistics = q.find("tatistics") != std::string::npos;
      INFO(q);
      CHECK(sim::properties_response("uvm1", s, q, now) ==
            expected("uvm1", s, memory, statistics, now, started, stamp));
      s.runtime_os.clear(); // RuntimeOsType left out
      CHECK(sim::properties_response("uvm1", s, q, now) ==
            expected("uvm1", s, memory, statistics, now, started, stamp));
    }
  }
}

TEST_CASE("parse_vm_stats reads the simulator's statistics and memory", "[sim]") {
  auto s = system_in(sim_state::running);
  auto text = sim::properties_response("uvm1", s, R"({"PropertyTypes":["Statistics","Memory"]})",
                                       t0 + std::chrono::seconds(10));
  auto stats = parse_vm_stats(text);
  // 10 s up, 2 processors at 5%: 1 s of runtime.
  CHECK(stats.processor_total_runtime_ns == 1000000000);
  CHECK(stats.memory_working_set_bytes == 1024ULL * 1024 * 1024 / 8);
  CHECK(stats.has_vm_memory);
  CHECK(stats.memory_virtual_node_count == 1);
  CHECK(stats.vm_memory.available_memory == 768);
  CHECK(stats.vm_memory.assigned_memory == 1024 * 256);
  CHECK_FALSE(stats.vm_memory.slp_active);

  auto no_memory = parse_vm_stats(
      sim::properties_response("uvm1", s, R"({"PropertyTypes":["Statistics"]})", t0));
  CHECK_FALSE(no_memory.has_vm_memory);
}

TEST_CASE("parse_vm_stats: Go's member rules, zero for what is missing", "[sim]") {
  // Names match ignoring case, an exact match wins; numbers of any form;
  // booleans; escaped names decoded.
  auto stats = parse_vm_stats(
      R"({"statistics":{"PROCESSOR":{"TotalRuntime100ns":7},"Memory":{"memoryusageprivateworkingsetbytes":1.5e3}},)"
      R"("Memory":{"VirtualNodeCount":2,"VirtualMachineMemory":{"AvailableMemory":-5,)"
      R"("availablememory":9,"SlpActive":true,"Balancing\u0045nabled":true,"ReservedMemory":"12"}}})");
  CHECK(stats.processor_total_runtime_ns == 700);
  CHECK(stats.memory_working_set_bytes == 1500);
  CHECK(stats.memory_virtual_node_count == 2);
  CHECK(stats.vm_memory.available_memory == -5);
  CHECK(stats.vm_memory.slp_active);
  CHECK(stats.vm_memory.balancing_enabled);
  CHECK(stats.vm_memory.reserved_memory == 0); // a string is not a number
  CHECK_FALSE(stats.vm_memory.dm_operation_in_progress);

  // A number its field cannot hold reads as zero, never wraps.
  auto out_of_range = parse_vm_stats(
      R"({"Statistics":{"Processor":{"TotalRuntime100ns":-1.5},"Memory":{"MemoryUsagePrivateWorkingSetBytes":1e300}},)"
      R"("Memory":{"VirtualNodeCount":-1,"VirtualMachineMemory":{"AvailableMemory":2147483648,)"
      R"("AvailableMemoryBuffer":-2147483648,"AssignedMemory":-3}}})");
  CHECK(out_of_range.processor_total_runtime_ns == 0);
  CHECK(out_of_range.memory_working_set_bytes == 0);
  CHECK(out_of_range.memory_virtual_node_count == 0);
  CHECK(out_of_range.vm_memory.available_memory == 0);
  CHECK(out_of_range.vm_memory.available_memory_buffer == -2147483648LL);
  CHECK(out_of_range.vm_memory.assigned_memory == 0);

  for (const char* text : {"", "nope", "[]", "{\"Statistics\":", "{}", R"({"Memory":3})"}) {
    INFO(text);
    auto none = parse_vm_stats(text);
    CHECK(none.processor_total_runtime_ns == 0);
    CHECK(none.memory_working_set_bytes == 0);
    CHECK_FALSE(none.has_vm_memory);
  }
}
