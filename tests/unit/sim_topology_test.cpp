// sim_model modify requests on the compute topology: memory size,
// processor limits, processor count, and their errors.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "hcs/sim/sim_model.hpp"

using namespace uvm::hcs;
using nlohmann::json;

namespace {

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string memory_path = "VirtualMachine/ComputeTopology/Memory/SizeInMB";
const std::string limits_path = "VirtualMachine/ComputeTopology/Processor/Limits";
const std::string processor_path = "VirtualMachine/ComputeTopology/Processor";

// As hcsshim sends them: no RequestType.
std::string update(const std::string& path, const json& settings) {
  return json{{"ResourcePath", path}, {"Settings", settings}}.dump();
}

struct running {
  running() {
    REQUIRE(model.create("uvm", read_vector("lcow-uvm-default.create.json")).ok());
    REQUIRE(model.start("uvm").ok());
  }
  call_result modify(const std::string& text) { return model.modify("uvm", text); }
  json oracle() { return model.oracle()["uvm"]; }
  sim_model model;
};

void check_rejected(const call_result& r, uint32_t hresult, const std::string& message) {
  CHECK(r.hresult == hresult);
  CHECK(r.message == message);
}

} // namespace

TEST_CASE("sim memory resize", "[sim][resize]") {
  running vm;
  REQUIRE(vm.oracle()["memory_mb"] == 1024);
  REQUIRE(vm.modify(update(memory_path, 4096)).ok());
  CHECK(vm.oracle()["memory_mb"] == 4096);
  SECTION("shrinking is allowed down to 32 MB") {
    REQUIRE(vm.modify(update(memory_path, 32)).ok());
    CHECK(vm.oracle()["memory_mb"] == 32);
  }
  SECTION("RequestType Update is accepted, any case") {
    auto body = json{{"ResourcePath", memory_path}, {"RequestType", "update"}, {"Settings", 2048}};
    REQUIRE(vm.modify(body.dump()).ok());
    CHECK(vm.oracle()["memory_mb"] == 2048);
  }
  SECTION("the statistics follow the new size") {
    auto r = vm.model.properties("uvm", R"({"PropertyTypes":["Memory"]})");
    REQUIRE(r.ok());
    CHECK(json::parse(r.payload)["Memory"]["VirtualMachineMemory"]["AssignedMemory"] == 4096 * 256);
  }
  SECTION("impossible sizes change nothing") {
    check_rejected(vm.modify(update(memory_path, 0)), hr::invalid_arg,
                   "memory size 0 MB is below the minimum of 32 MB");
    check_rejected(vm.modify(update(memory_path, 30)), hr::invalid_arg,
                   "memory size 30 MB is below the minimum of 32 MB");
    check_rejected(vm.modify(update(memory_path, 2049)), hr::invalid_arg,
                   "memory size 2049 MB is not a multiple of 2 MB");
    check_rejected(vm.modify(update(memory_path, 12582914)), hr::invalid_arg,
                   "memory size 12582914 MB is beyond the maximum of 12582912 MB");
    check_rejected(vm.modify(update(memory_path, -2)), hr::invalid_json,
                   "member Settings is not an unsigned integer");
    check_rejected(vm.modify(update(memory_path, "2048")), hr::invalid_json,
                   "member Settings is not an unsigned integer");
    check_rejected(vm.modify(json{{"ResourcePath", memory_path}}.dump()), hr::invalid_arg,
                   "Update of memory needs Settings");
    auto add = json{{"ResourcePath", memory_path}, {"RequestType", "Add"}, {"Settings", 2048}};
    check_rejected(vm.modify(add.dump()), hr::invalid_arg,
                   "RequestType \"Add\" is not supported for memory (only Update)");
    CHECK(vm.oracle()["memory_mb"] == 4096);
  }
}

TEST_CASE("sim processor limits", "[sim][resize]") {
  running vm;
  REQUIRE(vm.modify(update(limits_path, {{"Limit", 50000}, {"Weight", 200}})).ok());
  CHECK(vm.oracle()["processor_limits"] ==
        json{{"Limit", 50000}, {"Weight", 200}, {"Reservation", 0}, {"MaximumFrequencyMHz", 0}});
  SECTION("members left out keep their value") {
    REQUIRE(vm.modify(update(limits_path, {{"Reservation", 10000}})).ok());
    CHECK(vm.oracle()["processor_limits"] == json{{"Limit", 50000},
                                                  {"Weight", 200},
                                                  {"Reservation", 10000},
                                                  {"MaximumFrequencyMHz", 0}});
  }
  SECTION("out of range changes nothing") {
    check_rejected(vm.modify(update(limits_path, {{"Weight", 100}, {"Limit", 100001}})),
                   hr::invalid_arg, "processor Limit 100001 is out of range (0-100000)");
    check_rejected(vm.modify(update(limits_path, {{"Weight", 10001}})), hr::invalid_arg,
                   "processor Weight 10001 is out of range (0-10000)");
    check_rejected(vm.modify(update(limits_path, {{"Limit", "max"}})), hr::invalid_json,
                   "member Limit is not an unsigned integer");
    check_rejected(vm.modify(update(limits_path, 5)), hr::invalid_json,
                   "member Settings is not an object");
    CHECK(vm.oracle()["processor_limits"]["Weight"] == 200);
  }
}

TEST_CASE("sim processor count cannot change while running", "[sim][resize]") {
  running vm;
  check_rejected(vm.modify(update(processor_path, {{"Count", 4}})), hr::not_supported,
                 "the processor count of a running system cannot change (asked for 4)");
  CHECK(hresult_text(hr::not_supported) == "The request is not supported.");
  CHECK(vm.oracle()["processor_count"] == 2);
}

TEST_CASE("sim topology: unknown paths and stopped systems", "[sim][resize]") {
  running vm;
  check_rejected(vm.modify(update("VirtualMachine/ComputeTopology/Gpu", json::object())),
                 hr::invalid_arg, "unknown ResourcePath \"VirtualMachine/ComputeTopology/Gpu\"");
  REQUIRE(vm.model.terminate("uvm").ok());
  CHECK(vm.modify(update(memory_path, 2048)).hresult == hr::invalid_state);
}
