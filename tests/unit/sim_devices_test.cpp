// sim_model modify requests: every resource path, its slots and its errors.
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

std::string request(const std::string& path, const std::string& type, const json& settings = {}) {
  json body = {{"ResourcePath", path}, {"RequestType", type}};
  if (!settings.is_null()) {
    body["Settings"] = settings;
  }
  return body.dump();
}

std::string scsi_path(const std::string& controller, const std::string& lun) {
  return "VirtualMachine/Devices/Scsi/" + controller + "/Attachments/" + lun;
}

json disk(const std::string& path) {
  return {{"Type", "VirtualDisk"}, {"Path", path}};
}

const std::string vpmem_path = "VirtualMachine/Devices/VirtualPMem/Devices/";
const std::string vsmb_path = "VirtualMachine/Devices/VirtualSmb/Shares";
const std::string plan9_path = "VirtualMachine/Devices/Plan9/Shares";

// A running system from one of the spec's documents.
struct running {
  explicit running(const std::string& vector) {
    REQUIRE(model.create("uvm", read_vector(vector)).ok());
    REQUIRE(model.start("uvm").ok());
  }
  call_result modify(const std::string& text) { return model.modify("uvm", text); }
  json oracle() { return model.oracle()["uvm"]; }
  sim_model model;
};

} // namespace

TEST_CASE("sim SCSI slots", "[sim]") {
  running lcow("lcow-uvm-default.create.json");
  REQUIRE(lcow.modify(read_vector("scsi-add-lcow.hcs.json")).ok());
  REQUIRE(lcow.modify(read_vector("scsi-add-lcow-lun1-ro.modify.json")).ok());
  auto o = lcow.oracle();
  CHECK(o["scsi"]["0:0"] == json{{"Path", "C:\\ContainerData\\ctr1\\sandbox.vhdx"},
                                 {"Type", "VirtualDisk"},
                                 {"ReadOnly", false}});
  CHECK(o["scsi"]["0:1"]["ReadOnly"] == true);

  auto occupied = lcow.modify(request(scsi_path("0", "1"), "Add", disk("C:\\other.vhdx")));
  CHECK(occupied.hresult == hr::invalid_arg);
  CHECK_THAT(occupied.message, Catch::Contains("0:1") && Catch::Contains("layer.vhd"));
  CHECK(lcow.oracle()["scsi"]["0:1"]["Path"] == "C:\\ContainerData\\layers\\big\\layer.vhd");

  auto controller = lcow.modify(request(scsi_path("1", "0"), "Add", disk("d")));
  CHECK(controller.hresult == hr::invalid_arg);
  CHECK_THAT(controller.message, Catch::Contains("controller 1"));
  CHECK(lcow.modify(request(scsi_path("0", "64"), "Add", disk("d"))).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(scsi_path("0", "x"), "Add", disk("d"))).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(scsi_path("0", "63"), "Add", disk("d"))).ok());

  auto no_path = lcow.modify(request(scsi_path("0", "2"), "Add", {{"Type", "VirtualDisk"}}));
  CHECK(no_path.hresult == hr::invalid_arg);
  CHECK_THAT(no_path.message, Catch::Contains("Path"));
  auto no_type = lcow.modify(request(scsi_path("0", "2"), "Add", {{"Path", "d"}}));
  CHECK(no_type.hresult == hr::invalid_arg);
  CHECK_THAT(no_type.message, Catch::Contains("Type"));
  CHECK(lcow.modify(request(scsi_path("0", "2"), "Add", {{"Type", "Floppy"}, {"Path", "d"}}))
            .hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(scsi_path("0", "2"), "Add")).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(scsi_path("0", "2"), "Add", {{"Type", 1}, {"Path", "d"}})).hresult ==
        hr::invalid_json);
  CHECK(lcow.modify(request(scsi_path("0", "2"), "Update", disk("d"))).hresult == hr::invalid_arg);

  auto empty = lcow.modify(request(scsi_path("0", "5"), "Remove"));
  CHECK(empty.hresult == hr::element_not_found);
  CHECK_THAT(empty.message, Catch::Contains("0:5"));
  REQUIRE(lcow.modify(request(scsi_path("0", "1"), "Remove")).ok());
  CHECK_FALSE(lcow.oracle()["scsi"].contains("0:1"));
  CHECK(lcow.oracle()["scsi"].size() == 2);
}

TEST_CASE("sim SCSI: WCOW scratch occupies 0:0", "[sim]") {
  running wcow("wcow-uvm-default.create.json");
  CHECK(wcow.modify(request(scsi_path("0", "0"), "Add", disk("C:\\x.vhdx"))).hresult ==
        hr::invalid_arg);
  CHECK(wcow.modify(request(scsi_path("0", "1"), "Add", disk("C:\\x.vhdx"))).ok());
  REQUIRE(wcow.modify(request(scsi_path("0", "0"), "Remove")).ok());
  CHECK(wcow.oracle()["scsi"].size() == 1);
}

TEST_CASE("sim VPMEM slots", "[sim]") {
  running lcow("lcow-uvm-default.create.json");
  REQUIRE(lcow.modify(read_vector("vpmem-add-lcow.hcs.json")).ok());
  CHECK(lcow.oracle()["vpmem"]["0"] ==
        json{{"HostPath", "C:\\ContainerData\\layers\\l1\\layer.vhd"},
             {"ReadOnly", true},
             {"ImageFormat", "Vhd1"}});
  json layer = {{"HostPath", "C:\\l.vhd"}, {"ReadOnly", true}, {"ImageFormat", "Vhd1"}};
  CHECK(lcow.modify(request(vpmem_path + "0", "Add", layer)).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(vpmem_path + "63", "Add", layer)).ok());
  auto beyond = lcow.modify(request(vpmem_path + "64", "Add", layer));
  CHECK(beyond.hresult == hr::invalid_arg);
  CHECK_THAT(beyond.message, Catch::Contains("64"));
  CHECK(lcow.modify(request(vpmem_path + "1", "Add", {{"ReadOnly", true}})).hresult ==
        hr::invalid_arg);
  CHECK(lcow.modify(request(vpmem_path + "1", "Add", {{"HostPath", "p"}, {"ImageFormat", "Qcow"}}))
            .hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(vpmem_path + "1", "Remove")).hresult == hr::element_not_found);
  REQUIRE(lcow.modify(request(vpmem_path + "63", "Remove")).ok());
  CHECK(lcow.oracle()["vpmem"].size() == 1);

  running wcow("wcow-uvm-default.create.json"); // no VirtualPMem in the document
  CHECK(wcow.modify(request(vpmem_path + "0", "Add", layer)).hresult == hr::invalid_arg);
}

TEST_CASE("sim VPMEM mappings of packed layers", "[sim][vpmem]") {
  running lcow("lcow-uvm-default.create.json"); // MaximumSizeBytes 4 GiB
  json layer = {{"HostPath", "/l/a.vhd"}, {"ReadOnly", true}, {"ImageFormat", "Vhd1"}};
  json mapped = {{"HostPath", "/l/b.vhd"}, {"ImageFormat", "Vhd1"}};
  auto mapping = [](const std::string& where) { return vpmem_path + "2/Mappings/" + where; };
  auto nowhere = lcow.modify(request(mapping("8192"), "Add", mapped));
  CHECK(nowhere.hresult == hr::invalid_arg);
  CHECK_THAT(nowhere.message, Catch::Contains("not attached"));
  REQUIRE(lcow.modify(request(vpmem_path + "2", "Add", layer)).ok());
  REQUIRE(lcow.modify(request(mapping("8192"), "Add", mapped)).ok());
  CHECK(lcow.oracle()["vpmem"]["2"]["Mappings"] ==
        json{{"8192", {{"HostPath", "/l/b.vhd"}, {"ImageFormat", "Vhd1"}}}});
  CHECK(lcow.modify(request(mapping("8192"), "Add", mapped)).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(mapping("0"), "Add", mapped)).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(mapping("100"), "Add", mapped)).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(mapping("4294967296"), "Add", mapped)).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(mapping("x"), "Add", mapped)).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(mapping("4096"), "Add", {{"ImageFormat", "Vhd1"}})).hresult ==
        hr::invalid_arg);
  CHECK(lcow.modify(request(mapping("4096"), "Remove")).hresult == hr::element_not_found);
  // Two layers are mapped: the device cannot go yet.
  CHECK(lcow.modify(request(vpmem_path + "2", "Remove")).hresult == hr::invalid_arg);
  REQUIRE(lcow.modify(request(mapping("0"), "Remove")).ok());
  CHECK(lcow.oracle()["vpmem"]["2"]["BaseMapped"] == false);
  REQUIRE(lcow.modify(request(vpmem_path + "2", "Remove")).ok());
  CHECK(lcow.oracle()["vpmem"].empty());
}

TEST_CASE("sim Plan9 shares", "[sim]") {
  running lcow("lcow-uvm-default.create.json");
  REQUIRE(lcow.modify(read_vector("plan9-add-lcow.modify.json")).ok());
  CHECK(lcow.oracle()["plan9"]["0"] == json{{"AccessName", "0"},
                                            {"Path", "C:\\share\\data"},
                                            {"Port", 564},
                                            {"Flags", 5},
                                            {"AllowedFiles", json::array()}});
  auto dup = lcow.modify(read_vector("plan9-add-lcow.hcs.json"));
  CHECK(dup.hresult == hr::invalid_arg);
  CHECK_THAT(dup.message, Catch::Contains("Plan9 share 0"));
  CHECK(lcow.modify(request(plan9_path, "Add", {{"Path", "p"}})).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(plan9_path, "Remove", {{"Name", "9"}, {"Port", 564}})).hresult ==
        hr::element_not_found);
  CHECK(lcow.modify(request(plan9_path, "Update", {{"Name", "0"}, {"Path", "p"}})).hresult ==
        hr::invalid_arg);
  REQUIRE(lcow.modify(request(plan9_path, "Remove",
                              {{"Name", "0"}, {"AccessName", "0"}, {"Port", 564}}))
              .ok());
  CHECK(lcow.oracle()["plan9"].empty());
}

TEST_CASE("sim VSMB shares", "[sim]") {
  running wcow("wcow-uvm-default.create.json");
  REQUIRE(wcow.modify(read_vector("vsmb-add-wcow.modify.json")).ok());
  CHECK(wcow.oracle()["vsmb"]["s1"]["Path"] == "C:\\ContainerData\\layers\\l1");
  CHECK(wcow.modify(read_vector("vsmb-add-wcow.modify.json")).hresult == hr::invalid_arg);
  auto os = wcow.modify(request(vsmb_path, "Add", {{"Name", "os"}, {"Path", "x"}}));
  CHECK(os.hresult == hr::invalid_arg);
  CHECK_THAT(os.message, Catch::Contains("os"));

  json file_share = {
      {"Name", "f"},
      {"Path", "C:\\dir"},
      {"AllowedFiles", {"a.txt", "b.txt"}},
      {"Options", {{"ReadOnly", true}, {"SingleFileMapping", true}, {"NoLocks", false}}}};
  REQUIRE(wcow.modify(request(vsmb_path, "Add", file_share)).ok());
  auto f = wcow.oracle()["vsmb"]["f"];
  CHECK(f["AllowedFiles"] == json{"a.txt", "b.txt"});
  CHECK(f["Options"] == json{{"ReadOnly", true}, {"SingleFileMapping", true}});

  CHECK(wcow.modify(request(vsmb_path, "Update", {{"Name", "nope"}, {"Path", "p"}})).hresult ==
        hr::element_not_found);
  REQUIRE(wcow.modify(request(vsmb_path, "Update", {{"Name", "f"}, {"Path", "C:\\other"}})).ok());
  CHECK(wcow.oracle()["vsmb"]["f"]["Path"] == "C:\\other");
  CHECK(wcow.oracle()["vsmb"]["f"]["AllowedFiles"].empty());

  CHECK(wcow.modify(request(vsmb_path, "Remove", {{"Name", "nope"}})).hresult ==
        hr::element_not_found);
  CHECK(wcow.modify(request(vsmb_path, "Remove")).hresult == hr::invalid_arg);
  REQUIRE(wcow.modify(request(vsmb_path, "Remove", {{"Name", "f"}})).ok());
  CHECK(wcow.oracle()["vsmb"].size() == 2); // os and s1
}

TEST_CASE("sim mapped pipes, network adapters, VPCI devices", "[sim]") {
  running wcow("wcow-uvm-default.create.json");
  const std::string pipe = "VirtualMachine/Devices/MappedPipes/\\\\.\\pipe\\a/b";
  REQUIRE(wcow.modify(request(pipe, "Add")).ok());
  CHECK(wcow.oracle()["mapped_pipes"] == json{"\\\\.\\pipe\\a/b"});
  CHECK(wcow.modify(request(pipe, "Add")).hresult == hr::invalid_arg);
  REQUIRE(wcow.modify(request(pipe, "Remove")).ok());
  CHECK(wcow.modify(request(pipe, "Remove")).hresult == hr::element_not_found);

  const std::string nic =
      "VirtualMachine/Devices/NetworkAdapters/6f2a4d0e-8c1b-4f5a-9e3d-0a1b2c3d4e5f";
  json adapter = {{"EndpointId", "e1"}, {"MacAddress", "00-15-5D-00-00-01"}};
  REQUIRE(wcow.modify(request(nic, "Add", adapter)).ok());
  CHECK(wcow.oracle()["network_adapters"]["6f2a4d0e-8c1b-4f5a-9e3d-0a1b2c3d4e5f"] == adapter);
  CHECK(wcow.modify(request(nic, "Add", adapter)).hresult == hr::invalid_arg);
  REQUIRE(wcow.modify(request(nic, "Remove")).ok());
  CHECK(wcow.modify(request(nic, "Remove")).hresult == hr::element_not_found);

  const std::string vpci = "VirtualMachine/Devices/VirtualPci/1b2c3d4e-0000-4000-8000-000000000001";
  json device = {{"Functions", {{{"DeviceInstancePath", "PCI\\VEN_1"}}}}};
  REQUIRE(wcow.modify(request(vpci, "Add", device)).ok());
  CHECK(wcow.oracle()["vpci"]["1b2c3d4e-0000-4000-8000-000000000001"]["Functions"][0]
                     ["DeviceInstancePath"] == "PCI\\VEN_1");
  CHECK(wcow.modify(request(vpci, "Add", device)).hresult == hr::invalid_arg);
  REQUIRE(wcow.modify(request(vpci, "Remove")).ok());
  CHECK(wcow.modify(request(vpci, "Remove")).hresult == hr::element_not_found);
}

TEST_CASE("sim modify: paths, request types, JSON", "[sim]") {
  running lcow("lcow-uvm-default.create.json");
  auto unknown = lcow.modify(request("VirtualMachine/Devices/Floppy/0", "Add", disk("d")));
  CHECK(unknown.hresult == hr::invalid_arg);
  CHECK_THAT(unknown.message, Catch::Contains("Floppy"));
  CHECK(lcow.modify(request("Container/Devices/Scsi/0/Attachments/0", "Add", disk("d"))).hresult ==
        hr::invalid_arg);
  CHECK(
      lcow.modify(request("VirtualMachine/Devices/Scsi/0/Attachments", "Add", disk("d"))).hresult ==
      hr::invalid_arg);
  CHECK(lcow.modify(request("VirtualMachine/Devices/VirtualPMem/Devices/0/Mappings/0", "Add",
                            disk("d")))
            .hresult == hr::invalid_arg);
  CHECK(lcow.modify(request("VirtualMachine/Devices/MappedPipes/", "Add")).hresult ==
        hr::invalid_arg);
  CHECK(lcow.modify(request(scsi_path("0", "0"), "Attach", disk("d"))).hresult == hr::invalid_arg);
  CHECK(lcow.modify(request(scsi_path("0", "0"), "PreAdd", disk("d"))).hresult == hr::invalid_arg);
  CHECK(lcow.modify(json{{"ResourcePath", scsi_path("0", "0")}}.dump()).hresult == hr::invalid_arg);
  CHECK(lcow.modify("{}").hresult == hr::invalid_arg);
  CHECK(lcow.modify("{").hresult == hr::invalid_json);
  CHECK(lcow.modify("[]").hresult == hr::invalid_json);
  CHECK(lcow.modify(R"({"ResourcePath":5})").hresult == hr::invalid_json);

  // Member names and fixed path words match case-insensitively.
  REQUIRE(lcow.modify(R"({"resourcepath":"virtualmachine/devices/SCSI/0/attachments/4",
                          "requesttype":"add","settings":{"type":"VirtualDisk","path":"d"}})")
              .ok());
  CHECK(lcow.oracle()["scsi"]["0:4"]["Path"] == "d");

  // A guest-only request is forwarded to the guest: the host devices stay.
  auto before = lcow.oracle();
  REQUIRE(lcow.modify(R"({"GuestRequest":{"RequestType":"Add","ResourceType":"CombinedLayers"}})")
              .ok());
  CHECK(lcow.oracle() == before);
}
