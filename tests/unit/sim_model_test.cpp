// sim_model: lifecycle states and their errors, documents, properties, oracle.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "hcs/sim/sim_model.hpp"

using namespace uvm::hcs;

namespace {

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string lcow() {
  return read_vector("lcow-uvm-default.create.json");
}

std::string wcow() {
  return read_vector("wcow-uvm-default.create.json");
}

// Lower-case 8-4-4-4-12 hex with the version 4 and RFC 4122 variant bits.
bool is_v4_guid(const std::string& text) {
  if (text.size() != 36 || text[14] != '4' ||
      std::string("89ab").find(text[19]) == std::string::npos) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-'
             : std::string("0123456789abcdef").find(text[i]) == std::string::npos) {
      return false;
    }
  }
  return true;
}

// A fixed clock the test moves by hand.
struct fake_clock {
  std::chrono::system_clock::time_point now{std::chrono::seconds(1700000000)};
  sim_model::clock fn() {
    return [this] { return now; };
  }
};

} // namespace

TEST_CASE("sim_model lifecycle: created, running, stopped", "[sim]") {
  sim_model model;
  REQUIRE(model.create("uvm1", lcow()).ok());
  CHECK(model.state("uvm1") == sim_state::created);
  CHECK(model.modify("uvm1", read_vector("plan9-add-lcow.hcs.json")).hresult == hr::invalid_state);
  REQUIRE(model.start("uvm1").ok());
  CHECK(model.state("uvm1") == sim_state::running);

  auto again = model.start("uvm1");
  CHECK(again.hresult == hr::invalid_state);
  CHECK_THAT(again.message, Catch::Contains("uvm1") && Catch::Contains("running"));

  REQUIRE(model.shutdown("uvm1").ok());
  CHECK(model.state("uvm1") == sim_state::stopped);
  CHECK(model.shutdown("uvm1").hresult == hr::already_stopped);
  CHECK(model.terminate("uvm1").hresult == hr::already_stopped);
  CHECK(model.start("uvm1").hresult == hr::invalid_state);
  CHECK(model.modify("uvm1", read_vector("plan9-add-lcow.hcs.json")).hresult == hr::invalid_state);
  CHECK(model.properties("uvm1", "{}").hresult == hr::invalid_state);
}

TEST_CASE("sim_model terminate stops a created or running system", "[sim]") {
  sim_model model;
  REQUIRE(model.create("a", lcow()).ok());
  REQUIRE(model.terminate("a").ok());
  CHECK(model.state("a") == sim_state::stopped);
  REQUIRE(model.create("b", lcow()).ok());
  REQUIRE(model.start("b").ok());
  REQUIRE(model.terminate("b").ok());
  CHECK(model.state("b") == sim_state::stopped);
}

TEST_CASE("sim_model crash", "[sim]") {
  sim_model model;
  CHECK_FALSE(model.crash("nobody"));
  REQUIRE(model.create("uvm1", lcow()).ok());
  REQUIRE(model.start("uvm1").ok());
  CHECK(model.crash("uvm1"));
  CHECK(model.state("uvm1") == sim_state::crashed);
  CHECK_FALSE(model.crash("uvm1"));
  CHECK(model.modify("uvm1", read_vector("plan9-add-lcow.hcs.json")).hresult == hr::invalid_state);
  CHECK(model.shutdown("uvm1").hresult == hr::already_stopped);
  CHECK(model.terminate("uvm1").hresult == hr::already_stopped);
  CHECK(model.state("uvm1") == sim_state::crashed);
}

TEST_CASE("sim_model unknown systems and duplicate ids", "[sim]") {
  sim_model model;
  CHECK(model.start("x").hresult == hr::system_not_found);
  CHECK(model.modify("x", "{}").hresult == hr::system_not_found);
  CHECK(model.shutdown("x").hresult == hr::system_not_found);
  CHECK(model.terminate("x").hresult == hr::system_not_found);
  auto props = model.properties("x", "{}");
  CHECK(props.hresult == hr::system_not_found);
  CHECK_THAT(props.message, Catch::Contains("x"));

  REQUIRE(model.create("x", lcow()).ok());
  auto dup = model.create("x", wcow());
  CHECK(dup.hresult == hr::already_exists);
  CHECK(model.oracle()["x"]["runtime_os"] == "linux"); // the first one stays
}

TEST_CASE("sim_model close frees the id", "[sim]") {
  sim_model model;
  REQUIRE(model.create("uvm1", lcow()).ok());
  REQUIRE(model.start("uvm1").ok());
  REQUIRE(model.modify("uvm1", read_vector("scsi-add-lcow.hcs.json")).ok());
  model.close("uvm1");
  CHECK_FALSE(model.state("uvm1").has_value());
  CHECK(model.oracle().empty());
  model.close("uvm1"); // idempotent

  REQUIRE(model.create("uvm1", lcow()).ok());
  CHECK(model.state("uvm1") == sim_state::created);
  CHECK(model.oracle()["uvm1"]["scsi"].empty());
}

TEST_CASE("sim_model rejects bad documents", "[sim]") {
  sim_model model;
  CHECK(model.create("a", "{not json").hresult == hr::invalid_json);
  CHECK(model.create("a", "[1,2]").hresult == hr::invalid_json);
  CHECK(model.create("a", R"({"VirtualMachine":{"Devices":{"Scsi":[]}}})").hresult ==
        hr::invalid_json);
  CHECK(model.create("a", R"({"VirtualMachine":{"ComputeTopology":{"Memory":{"SizeInMB":"x"}}}})")
            .hresult == hr::invalid_json);
  CHECK(model.create("a", R"({"Owner":"o"})").hresult == hr::invalid_arg);
  auto lun = model.create(
      "a",
      R"({"VirtualMachine":{"Devices":{"Scsi":{"0":{"Attachments":{"64":{"Type":"VirtualDisk","Path":"p"}}}}}}})");
  CHECK(lun.hresult == hr::invalid_arg);
  CHECK_THAT(lun.message, Catch::Contains("0:64"));
  CHECK(
      model
          .create(
              "a",
              R"({"VirtualMachine":{"Devices":{"Scsi":{"0":{"Attachments":{"0":{"Path":"p"}}}}}}})")
          .hresult == hr::invalid_arg);
  CHECK(
      model
          .create(
              "a",
              R"({"VirtualMachine":{"Devices":{"VirtualPMem":{"MaximumCount":2,"Devices":{"2":{"HostPath":"p"}}}}}})")
          .hresult == hr::invalid_arg);
  CHECK(
      model
          .create(
              "a",
              R"({"VirtualMachine":{"Devices":{"Plan9":{"Shares":[{"Name":"s","Path":"p"},{"Name":"s","Path":"q"}]}}}})")
          .hresult == hr::invalid_arg);
  CHECK(model.oracle().empty()); // nothing half-created
}

TEST_CASE("sim_model reads the WCOW document", "[sim]") {
  sim_model model;
  REQUIRE(model.create("w", wcow()).ok());
  auto w = model.oracle()["w"];
  CHECK(w["runtime_os"] == "windows");
  CHECK(w["owner"] == "uvmtest");
  CHECK(w["processor_count"] == 2);
  CHECK(w["memory_mb"] == 1024);
  CHECK(w["scsi_controllers"] == nlohmann::json::array({"0"}));
  CHECK(w["scsi"]["0:0"]["Path"] == "C:\\ContainerData\\uvm1\\sandbox.vhdx");
  CHECK(w["scsi"]["0:0"]["Type"] == "VirtualDisk");
  CHECK(w["scsi"]["0:0"]["ReadOnly"] == false);
  CHECK(w["vsmb"]["os"]["Path"] == "C:\\ContainerData\\layers\\base\\UtilityVM\\Files");
  CHECK(w["vsmb"]["os"]["Options"] == nlohmann::json{{"ReadOnly", true},
                                                     {"ShareRead", true},
                                                     {"CacheIo", true},
                                                     {"TakeBackupPrivilege", true},
                                                     {"PseudoOplocks", true}});
  CHECK(w["vpmem_maximum_count"] == 0);
  CHECK(w["state"] == "created");
}

TEST_CASE("sim_model reads the LCOW document", "[sim]") {
  sim_model model;
  REQUIRE(model.create("l", lcow()).ok());
  auto l = model.oracle()["l"];
  CHECK(l["runtime_os"] == "linux");
  CHECK(l["scsi_controllers"] == nlohmann::json::array({"0"}));
  CHECK(l["scsi"].empty());
  CHECK(l["vpmem_maximum_count"] == 64);
  CHECK(l["vpmem_maximum_size_bytes"] == 4294967296ULL);
  CHECK(l["vpmem"].empty());
  CHECK(l["plan9"].empty());
  CHECK(l["mapped_pipes"].empty());
  CHECK(l["network_adapters"].empty());
  CHECK(l["vpci"].empty());
}

TEST_CASE("sim_model matches document members case-insensitively", "[sim]") {
  sim_model model;
  REQUIRE(
      model
          .create(
              "c",
              R"({"owner":"me","virtualmachine":{"CHIPSET":{"uefi":{"bootthis":{"devicepath":"\\boot\\VMLINUX"}}},
              "computetopology":{"memory":{"sizeinmb":2048},"processor":{"count":4}},
              "devices":{"scsi":{"0":{"attachments":{"3":{"type":"VirtualDisk","path":"d"}}}},
              "virtualpmem":{"maximumcount":4,"devices":{"1":{"hostpath":"h","readonly":true}}}}}})")
          .ok());
  auto c = model.oracle()["c"];
  CHECK(c["owner"] == "me");
  CHECK(c["runtime_os"] == "linux");
  CHECK(c["memory_mb"] == 2048);
  CHECK(c["processor_count"] == 4);
  CHECK(c["scsi"]["0:3"]["Path"] == "d");
  CHECK(c["vpmem"]["1"]["HostPath"] == "h");
  CHECK(c["vpmem"]["1"]["ReadOnly"] == true);
  CHECK(c["vpmem_maximum_count"] == 4);
}

TEST_CASE("sim_model boot entry decides RuntimeOsType", "[sim]") {
  sim_model model;
  REQUIRE(
      model
          .create(
              "k",
              R"({"VirtualMachine":{"Chipset":{"Uefi":{"BootThis":{"DeviceType":"VmbFs","DevicePath":"\\kernel"}}}}})")
          .ok());
  REQUIRE(model.create("n", R"({"VirtualMachine":{}})").ok());
  auto o = model.oracle();
  CHECK(o["k"]["runtime_os"] == "linux");
  CHECK(o["n"]["runtime_os"] == "");
}

TEST_CASE("sim_model v1 properties", "[sim]") {
  sim_model model(7);
  REQUIRE(model.create("uvm1", lcow()).ok());
  REQUIRE(model.create("win", wcow()).ok());

  auto created = model.properties("uvm1", "{}");
  REQUIRE(created.ok());
  auto p = nlohmann::json::parse(created.payload);
  CHECK(p["Id"] == "uvm1");
  CHECK(p["SystemType"] == "VirtualMachine");
  CHECK(p["Owner"] == "uvmtest");
  CHECK(p["RuntimeOsType"] == "linux");
  CHECK(p["State"] == "Created");
  const std::string runtime_id = p["RuntimeId"];
  CHECK(is_v4_guid(runtime_id));
  CHECK(created.payload.rfind(R"({"Id":"uvm1","SystemType":"VirtualMachine","Owner":"uvmtest",)",
                              0) == 0);

  REQUIRE(model.start("uvm1").ok());
  auto running = nlohmann::json::parse(model.properties("uvm1", "{}").payload);
  CHECK(running["State"] == "Running");
  CHECK(running["RuntimeId"] == runtime_id); // fixed at create

  auto win = nlohmann::json::parse(model.properties("win", "{}").payload);
  CHECK(win["RuntimeOsType"] == "windows");
  CHECK(win["RuntimeId"] != runtime_id);

  // The same seed gives the same ids.
  sim_model twin(7);
  REQUIRE(twin.create("uvm1", lcow()).ok());
  CHECK(nlohmann::json::parse(twin.properties("uvm1", "{}").payload)["RuntimeId"] == runtime_id);
}

TEST_CASE("sim_model v2 statistics and memory", "[sim]") {
  fake_clock clock;
  sim_model model(1, clock.fn());
  REQUIRE(model.create("uvm1", lcow()).ok());
  const std::string query = R"({"PropertyTypes":["Statistics","Memory"]})";

  auto before = nlohmann::json::parse(model.properties("uvm1", query).payload);
  CHECK(before["Statistics"]["Uptime100ns"] == 0);

  REQUIRE(model.start("uvm1").ok());
  clock.now += std::chrono::seconds(10);
  auto result = model.properties("uvm1", query);
  REQUIRE(result.ok());
  auto p = nlohmann::json::parse(result.payload);
  CHECK(p["Id"] == "uvm1");
  CHECK(p["State"] == "Running");
  const auto& stats = p["Statistics"];
  CHECK(stats["Timestamp"] == "2023-11-14T22:13:30.0000000Z");
  CHECK(stats["ContainerStartTime"] == "2023-11-14T22:13:20.0000000Z");
  CHECK(stats["Uptime100ns"] == 100000000);
  const uint64_t total = stats["Processor"]["TotalRuntime100ns"];
  const uint64_t user = stats["Processor"]["RuntimeUser100ns"];
  const uint64_t kernel = stats["Processor"]["RuntimeKernel100ns"];
  CHECK(total > 0);
  CHECK(total <= 2 * 100000000ULL); // at most all of both processors
  CHECK(user + kernel == total);
  CHECK(stats["Memory"]["MemoryUsageCommitBytes"] > 0);
  CHECK(stats["Memory"]["MemoryUsageCommitBytes"] <= 1024ULL * 1024 * 1024);
  CHECK(p["Memory"]["VirtualMachineMemory"]["AssignedMemory"] == 1024 * 256); // 4 KiB pages

  auto only_memory =
      nlohmann::json::parse(model.properties("uvm1", R"({"PropertyTypes":["Memory"]})").payload);
  CHECK(only_memory.contains("Memory"));
  CHECK_FALSE(only_memory.contains("Statistics"));
}

TEST_CASE("sim_model rejects bad property queries", "[sim]") {
  sim_model model;
  REQUIRE(model.create("uvm1", lcow()).ok());
  CHECK(model.properties("uvm1", "nope").hresult == hr::invalid_json);
  CHECK(model.properties("uvm1", R"({"PropertyTypes":"Statistics"})").hresult == hr::invalid_json);
  auto unknown = model.properties("uvm1", R"({"PropertyTypes":["Bogus"]})");
  CHECK(unknown.hresult == hr::invalid_arg);
  CHECK_THAT(unknown.message, Catch::Contains("Bogus"));
  CHECK(model.properties("uvm1", R"({"PropertyTypes":["ProcessList"]})").ok());
}

TEST_CASE("sim_model apply dispatches by call kind", "[sim]") {
  sim_model model;
  CHECK(model.apply(call_kind::create, "a", lcow()).ok());
  CHECK(model.apply(call_kind::start, "a", "").ok());
  CHECK(model.apply(call_kind::modify, "a", read_vector("vpmem-add-lcow.hcs.json")).ok());
  CHECK(model.apply(call_kind::properties, "a", "{}").ok());
  CHECK(model.apply(call_kind::shutdown, "a", "").ok());
  CHECK(model.apply(call_kind::terminate, "a", "").hresult == hr::already_stopped);
}
