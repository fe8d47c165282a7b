// sim_model against a reference map: random modify requests (valid and
// invalid) must succeed or fail exactly as the reference predicts, and the
// oracle must equal the reference after every step.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "hcs/sim/sim_model.hpp"

using namespace uvm::hcs;
using nlohmann::json;

namespace {

constexpr int vpmem_count = 8;

const std::string document = R"({"VirtualMachine":{"Devices":{
  "Scsi":{"0":{},"1":{}},
  "VirtualPMem":{"MaximumCount":8},
  "Plan9":{},"VirtualSmb":{}}}})";

// Reference state: "kind/key" -> the path (or endpoint) stored there.
using reference = std::map<std::string, std::string>;

reference project(const json& system) {
  reference out;
  for (const auto& [slot, attachment] : system["scsi"].items()) {
    out["scsi/" + slot] = attachment["Path"];
  }
  for (const auto& [number, device] : system["vpmem"].items()) {
    out["vpmem/" + number] = device["HostPath"];
  }
  for (const auto& [name, share] : system["plan9"].items()) {
    out["plan9/" + name] = share["Path"];
  }
  for (const auto& [name, share] : system["vsmb"].items()) {
    out["vsmb/" + name] = share["Path"];
  }
  for (const auto& pipe : system["mapped_pipes"]) {
    out["pipe/" + pipe.get<std::string>()] = "";
  }
  for (const auto& [id, adapter] : system["network_adapters"].items()) {
    out["nic/" + id] = adapter["EndpointId"];
  }
  for (const auto& [id, device] : system["vpci"].items()) {
    out["vpci/" + id] = device["Functions"][0]["DeviceInstancePath"];
  }
  return out;
}

struct operation {
  std::string request;
  uint32_t expected;
};

// One random request and what the reference says HCS answers; applies it to
// the reference when it should succeed.
struct generator {
  std::mt19937 rng{20240601};

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

  operation next(reference& ref) {
    const bool add = pick(2) == 0;
    const std::string type = add ? "Add" : "Remove";
    const std::string value = "C:\\v" + std::to_string(pick(1000));
    switch (pick(7)) {
    case 0: {
      // Controllers 0-1 exist, 2 does not; LUNs 0-5 and 64 (out of range).
      auto controller = std::to_string(pick(7) == 0 ? 2 : pick(2));
      auto lun = pick(8) == 0 ? 64 : pick(6);
      auto slot = controller + ":" + std::to_string(lun);
      json body = {{"ResourcePath", "VirtualMachine/Devices/Scsi/" + controller + "/Attachments/" +
                                        std::to_string(lun)},
                   {"RequestType", type}};
      if (add) {
        body["Settings"] = {{"Type", "VirtualDisk"}, {"Path", value}};
      }
      if (controller == "2" || lun >= 64) {
        return {body.dump(), hr::invalid_arg};
      }
      return keyed(ref, "scsi/" + slot, add, value, body.dump());
    }
    case 1: {
      auto number = pick(vpmem_count + 2); // 8 and 9 are beyond MaximumCount
      json body = {
          {"ResourcePath", "VirtualMachine/Devices/VirtualPMem/Devices/" + std::to_string(number)},
          {"RequestType", type}};
      if (add) {
        body["Settings"] = {{"HostPath", value}, {"ReadOnly", true}, {"ImageFormat", "Vhd1"}};
      }
      if (number >= vpmem_count) {
        return {body.dump(), hr::invalid_arg};
      }
      return keyed(ref, "vpmem/" + std::to_string(number), add, value, body.dump());
    }
    case 2: {
      auto name = "p" + std::to_string(pick(5));
      json settings = {{"Name", name}, {"Port", 564}};
      if (add) {
        settings["Path"] = value;
        settings["Flags"] = 4;
      }
      json body = {{"ResourcePath", "VirtualMachine/Devices/Plan9/Shares"},
                   {"RequestType", type},
                   {"Settings", settings}};
      return keyed(ref, "plan9/" + name, add, value, body.dump());
    }
    case 3: {
      auto name = "s" + std::to_string(pick(5));
      const int kind = pick(3); // add, remove, update
      json settings = {{"Name", name}};
      if (kind != 1) {
        settings["Path"] = value;
        settings["Options"] = {{"ReadOnly", true}};
      }
      json body = {{"ResourcePath", "VirtualMachine/Devices/VirtualSmb/Shares"},
                   {"RequestType", kind == 0   ? "Add"
                                   : kind == 1 ? "Remove"
                                               : "Update"},
                   {"Settings", settings}};
      if (kind == 2) {
        auto it = ref.find("vsmb/" + name);
        if (it == ref.end()) {
          return {body.dump(), hr::element_not_found};
        }
        it->second = value;
        return {body.dump(), hr::ok};
      }
      return keyed(ref, "vsmb/" + name, kind == 0, value, body.dump());
    }
    case 4: {
      auto pipe = "\\\\.\\pipe\\p" + std::to_string(pick(5));
      json body = {{"ResourcePath", "VirtualMachine/Devices/MappedPipes/" + pipe},
                   {"RequestType", type}};
      return keyed(ref, "pipe/" + pipe, add, "", body.dump());
    }
    case 5: {
      auto id = "0000000" + std::to_string(pick(5)) + "-0000-4000-8000-000000000000";
      json body = {{"ResourcePath", "VirtualMachine/Devices/NetworkAdapters/" + id},
                   {"RequestType", type}};
      if (add) {
        body["Settings"] = {{"EndpointId", value}, {"MacAddress", "00-15-5D-00-00-01"}};
      }
      return keyed(ref, "nic/" + id, add, value, body.dump());
    }
    default: {
      auto id = "1000000" + std::to_string(pick(5)) + "-0000-4000-8000-000000000000";
      json body = {{"ResourcePath", "VirtualMachine/Devices/VirtualPci/" + id},
                   {"RequestType", type}};
      if (add) {
        body["Settings"] = {{"Functions", {{{"DeviceInstancePath", value}}}}};
      }
      return keyed(ref, "vpci/" + id, add, value, body.dump());
    }
    }
  }

  static operation keyed(reference& ref, const std::string& key, bool add, const std::string& value,
                         std::string request) {
    if (add) {
      if (!ref.emplace(key, value).second) {
        return {std::move(request), hr::invalid_arg};
      }
      return {std::move(request), hr::ok};
    }
    if (ref.erase(key) == 0) {
      return {std::move(request), hr::element_not_found};
    }
    return {std::move(request), hr::ok};
  }
};

} // namespace

TEST_CASE("sim_model agrees with a reference over random modify requests", "[sim]") {
  sim_model model;
  REQUIRE(model.create("uvm", document).ok());
  REQUIRE(model.start("uvm").ok());
  reference ref;
  generator gen;
  std::map<uint32_t, int> outcomes;
  for (int step = 0; step < 20000; ++step) {
    auto op = gen.next(ref);
    auto result = model.modify("uvm", op.request);
    INFO("step " << step << ": " << op.request << " -> " << result.message);
    REQUIRE(result.hresult == op.expected);
    if (!result.ok()) {
      REQUIRE_FALSE(result.message.empty());
    }
    REQUIRE(project(model.oracle()["uvm"]) == ref);
    ++outcomes[result.hresult];
  }
  // The mix exercised every outcome a lot.
  CHECK(outcomes[hr::ok] > 5000);
  CHECK(outcomes[hr::invalid_arg] > 1000);
  CHECK(outcomes[hr::element_not_found] > 1000);
}
