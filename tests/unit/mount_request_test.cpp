// The guest's reading of the mount requests it performs inside a VM: the
// v0.8.8 vectors (omitted zero members), the shapes of uvm-api.md §7-§13,
// and settings of the wrong shape. Also the `gcs --mounts` values.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "guest/mount_mode.hpp"
#include "guest/mount_request.hpp"

using namespace uvm::guest;
using json = nlohmann::json;

namespace {

json vector_request(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  auto body = json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
  return body.contains("Request") ? body["Request"] : body["GuestRequest"];
}

mount_request parse(const json& request) {
  auto r = parse_mount_request(request["ResourceType"], request["RequestType"],
                               request.value("Settings", json::object()));
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("mount requests: SCSI disks from the vectors, zero members omitted", "[mounts]") {
  auto first = parse(vector_request("scsi-add-lcow.bridge-body.json"));
  CHECK(first.add);
  const auto& disk = std::get<scsi_disk_mount>(first.target);
  CHECK(disk.mount_path == "/run/gcs/c/ctr1");
  CHECK(disk.controller == 0);
  CHECK(disk.lun == 0);
  CHECK_FALSE(disk.read_only);

  auto ro = parse(vector_request("scsi-add-lcow-lun1-ro.modify.json"));
  const auto& ro_disk = std::get<scsi_disk_mount>(ro.target);
  CHECK(ro_disk.lun == 1);
  CHECK(ro_disk.read_only);

  auto controller = parse_mount_request("MappedVirtualDisk", "Add",
                                        {{"MountPath", "/m"}, {"Controller", 2}, {"Lun", 7}});
  REQUIRE(controller);
  CHECK(std::get<scsi_disk_mount>(controller->target).controller == 2);
  CHECK(std::get<scsi_disk_mount>(controller->target).lun == 7);
}

TEST_CASE("mount requests: a disk without a mount path asks nothing of the guest", "[mounts]") {
  auto r = parse_mount_request("MappedVirtualDisk", "Remove", {{"Lun", 3}});
  REQUIRE(r);
  CHECK_FALSE(r->add);
  CHECK(std::holds_alternative<no_mount>(r->target));
}

TEST_CASE("mount requests: VPMEM and Plan9 from the vectors", "[mounts]") {
  auto pmem = parse(vector_request("vpmem-add-lcow.bridge-body.json"));
  CHECK(std::get<vpmem_mount>(pmem.target).mount_path == "/run/layers/p0");
  CHECK(std::get<vpmem_mount>(pmem.target).device_number == 0);
  auto third = parse_mount_request("VPMemDevice", "Add",
                                   {{"DeviceNumber", 3}, {"MountPath", "/run/layers/p3"}});
  REQUIRE(third);
  CHECK(std::get<vpmem_mount>(third->target).device_number == 3);

  auto share = parse(vector_request("plan9-add-lcow.bridge-body.json"));
  const auto& p9 = std::get<plan9_mount>(share.target);
  CHECK(p9.mount_path == "/run/mounts/m2");
  CHECK(p9.share_name == "0");
  CHECK(p9.read_only);
}

TEST_CASE("mount requests: packed VPMEM layers carry their range", "[mounts][vpmem]") {
  auto packed = parse_mount_request(
      "VPMemDevice", "Add",
      json::parse(R"({"DeviceNumber":1,"MountPath":"/run/layers/p1-8192-4096",)"
                  R"("MappingInfo":{"DeviceOffsetInBytes":8192,"DeviceSizeInBytes":4096}})"));
  REQUIRE(packed);
  const auto& m = std::get<vpmem_mount>(packed->target);
  REQUIRE(m.mapping);
  CHECK(m.mapping->offset == 8192);
  CHECK(m.mapping->size_bytes == 4096);
  // Offset 0 is omitted on the wire.
  auto first = parse_mount_request(
      "VPMemDevice", "Remove",
      json::parse(R"({"MountPath":"/m","MappingInfo":{"DeviceSizeInBytes":8192}})"));
  REQUIRE(first);
  CHECK(std::get<vpmem_mount>(first->target).mapping->offset == 0);
  CHECK_FALSE(std::get<vpmem_mount>(parse(vector_request("vpmem-add-lcow.bridge-body.json")).target)
                  .mapping);
  auto bad = [](const char* info) {
    auto r = parse_mount_request(
        "VPMemDevice", "Add",
        json::parse(std::string{R"({"MountPath":"/m","MappingInfo":)"} + info + "}"));
    REQUIRE_FALSE(r);
    return r.err().text;
  };
  CHECK(bad("3") == "invalid VPMemDevice settings: MappingInfo must be an object");
  CHECK(bad(R"({"DeviceSizeInBytes":-1})") ==
        "invalid VPMemDevice settings: DeviceSizeInBytes must be an unsigned 64-bit number");
  CHECK(bad(R"({"DeviceSizeInBytes":100})") ==
        "invalid VPMemDevice settings: MappingInfo must give a non-empty range in whole 512-byte "
        "sectors");
  CHECK(bad(R"({"DeviceOffsetInBytes":4096})") ==
        "invalid VPMemDevice settings: MappingInfo must give a non-empty range in whole 512-byte "
        "sectors");
}

TEST_CASE("mount requests: combined layers in order, with and without scratch", "[mounts]") {
  json add = {{"ContainerRootPath", "/run/gcs/c/1/rootfs"},
              {"Layers", {{{"Path", "/run/layers/p0"}}, {{"Path", "/run/layers/p1"}}}},
              {"ScratchPath", "/run/gcs/c/1/scratch"}};
  auto r = parse_mount_request("CombinedLayers", "Add", add);
  REQUIRE(r);
  const auto& o = std::get<overlay_mount>(r->target);
  CHECK(o.root == "/run/gcs/c/1/rootfs");
  CHECK(o.layers == std::vector<std::string>{"/run/layers/p0", "/run/layers/p1"});
  CHECK(o.scratch == "/run/gcs/c/1/scratch");

  add.erase("ScratchPath");
  auto ro = parse_mount_request("CombinedLayers", "Add", add);
  REQUIRE(ro);
  CHECK(std::get<overlay_mount>(ro->target).scratch.empty());

  auto remove =
      parse_mount_request("CombinedLayers", "Remove", {{"ContainerRootPath", "/run/gcs/c/1/r"}});
  REQUIRE(remove);
  CHECK_FALSE(remove->add);
  CHECK(std::get<overlay_mount>(remove->target).root == "/run/gcs/c/1/r");
}

TEST_CASE("mount requests: other resource types have no mount", "[mounts]") {
  for (const char* type : {"Network", "VPCIDevice"}) {
    auto r = parse_mount_request(type, "Add", {{"ID", "x"}});
    REQUIRE(r);
    CHECK(std::holds_alternative<no_mount>(r->target));
  }
}

TEST_CASE("mount requests: settings of the wrong shape name the member", "[mounts]") {
  auto check = [](const char* type, const json& settings, const std::string& text) {
    auto r = parse_mount_request(type, "Add", settings);
    REQUIRE_FALSE(r);
    CHECK(r.err().text == text);
  };
  check("MappedVirtualDisk", {{"MountPath", "/m"}, {"Lun", "1"}},
        "invalid MappedVirtualDisk settings: Lun must be an unsigned 32-bit number");
  check("MappedVirtualDisk", {{"MountPath", "/m"}, {"Lun", -1}},
        "invalid MappedVirtualDisk settings: Lun must be an unsigned 32-bit number");
  check("MappedVirtualDisk", {{"MountPath", "/m"}, {"ReadOnly", 1}},
        "invalid MappedVirtualDisk settings: ReadOnly must be a boolean");
  check("VPMemDevice", {{"DeviceNumber", 1}}, "invalid VPMemDevice settings: MountPath is empty");
  check("MappedDirectory", {{"MountPath", "/m"}},
        "invalid MappedDirectory settings: ShareName is empty");
  check("CombinedLayers", {{"ContainerRootPath", "/r"}},
        "invalid CombinedLayers settings: Layers is empty");
  check("CombinedLayers", {{"ContainerRootPath", "/r"}, {"Layers", {{{"Path", 1}}}}},
        "invalid CombinedLayers settings: Path must be a string");
}

TEST_CASE("gcs --mounts takes table or real", "[mounts]") {
  CHECK(*parse_mount_mode("table") == mount_mode::table);
  CHECK(*parse_mount_mode("real") == mount_mode::real);
  auto bad = parse_mount_mode("Real");
  REQUIRE_FALSE(bad);
  CHECK(bad.err().text == "--mounts: expected table or real, got 'Real'");
}
