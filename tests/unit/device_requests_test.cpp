// The device modify requests, byte for byte: the v0.8.8 vectors for the
// adds, and the shapes of uvm-api.md §7-§13 / hcs-schema.md §5-§7 for the
// rest, each split into its host and guest parts as the dispatcher sends them.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "bridge/rpc_messages.hpp"
#include "gojson/go_json.hpp"
#include "hcs/device_requests.hpp"

using namespace uvm::hcs;

namespace {

// The bridge ModifySettings that carries a guest part to the guest.
std::string bridge_body(const std::string& guest) {
  using uvm::bridge::zero_guid;
  return uvm::bridge::encode(uvm::bridge::modify_settings_request{{zero_guid, zero_guid}, guest});
}

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string host(const device_request& r) {
  REQUIRE(r.host);
  return *r.host;
}

std::string guest(const device_request& r) {
  REQUIRE(r.guest);
  return *r.guest;
}

std::string combined(const device_request& r) {
  return combined_request(r);
}

scsi_disk disk(uint32_t controller, uint32_t lun, std::string host_path, std::string uvm_path,
               bool read_only = false) {
  scsi_disk d;
  d.controller = controller;
  d.lun = lun;
  d.host_path = std::move(host_path);
  d.uvm_path = std::move(uvm_path);
  d.read_only = read_only;
  return d;
}

network_endpoint full_endpoint() {
  network_endpoint e;
  e.id = "ep1";
  e.mac_address = "00-15-5D-01-02-03";
  e.namespace_id = "ns1";
  e.ip_address = "10.0.0.5";
  e.prefix_length = 24;
  e.gateway_address = "10.0.0.1";
  e.dns_suffix = "corp";
  e.dns_server_list = "10.0.0.2";
  e.enable_low_metric = true;
  e.encap_overhead = 50;
  return e;
}

} // namespace

TEST_CASE("requests: SCSI add matches the vectors", "[requests]") {
  auto r = scsi_add(guest_os::lcow,
                    disk(0, 0, R"(C:\ContainerData\ctr1\sandbox.vhdx)", "/run/gcs/c/ctr1"));
  CHECK(combined(r) == read_vector("scsi-add-lcow.modify.json"));
  CHECK(host(r) == read_vector("scsi-add-lcow.hcs.json"));
  CHECK(bridge_body(*r.guest) == read_vector("scsi-add-lcow.bridge-body.json"));
  auto ro = scsi_add(guest_os::lcow, disk(0, 1, R"(C:\ContainerData\layers\big\layer.vhd)",
                                          "/run/mounts/m1", true));
  CHECK(combined(ro) == read_vector("scsi-add-lcow-lun1-ro.modify.json"));
}

TEST_CASE("requests: VPMEM, Plan9 and VSMB adds match the vectors", "[requests]") {
  auto v = vpmem_add(0, R"(C:\ContainerData\layers\l1\layer.vhd)", "/run/layers/p0");
  CHECK(combined(v) == read_vector("vpmem-add-lcow.modify.json"));
  CHECK(host(v) == read_vector("vpmem-add-lcow.hcs.json"));
  CHECK(bridge_body(*v.guest) == read_vector("vpmem-add-lcow.bridge-body.json"));

  auto p = plan9_add(plan9_mount{"0", R"(C:\share\data)", "/run/mounts/m2", 5, true, {}});
  CHECK(combined(p) == read_vector("plan9-add-lcow.modify.json"));
  CHECK(host(p) == read_vector("plan9-add-lcow.hcs.json"));
  CHECK(bridge_body(*p.guest) == read_vector("plan9-add-lcow.bridge-body.json"));

  virtual_smb_share_options o;
  o.read_only = o.share_read = o.cache_io = o.take_backup_privilege = o.pseudo_oplocks = true;
  auto s = vsmb_add(virtual_smb_share{"s1", R"(C:\ContainerData\layers\l1)", {}, o});
  CHECK_FALSE(s.guest);
  CHECK(combined(s) == read_vector("vsmb-add-wcow.modify.json"));
  CHECK(host(s) == read_vector("vsmb-add-wcow.modify.json"));
}

TEST_CASE("requests: SCSI guest settings per OS", "[requests]") {
  auto attach_only = scsi_add(guest_os::lcow, disk(0, 2, "/d.vhdx", ""));
  CHECK_FALSE(attach_only.guest);
  CHECK(combined(attach_only) == host(attach_only));

  auto w = scsi_add(guest_os::wcow, disk(0, 3, R"(C:\d.vhdx)", R"(C:\mnt)", true));
  CHECK(
      host(w) ==
      R"({"ResourcePath":"VirtualMachine/Devices/Scsi/0/Attachments/3","RequestType":"Add","Settings":{"Type":"VirtualDisk","Path":"C:\\d.vhdx","ReadOnly":true}})");
  CHECK(
      guest(w) ==
      R"({"RequestType":"Add","ResourceType":"MappedVirtualDisk","Settings":{"ContainerPath":"C:\\mnt","Lun":3}})");

  auto l = scsi_remove(guest_os::lcow, disk(1, 2, "/d.vhdx", "/m", true));
  CHECK(host(l) ==
        R"({"ResourcePath":"VirtualMachine/Devices/Scsi/1/Attachments/2","RequestType":"Remove"})");
  CHECK(
      guest(l) ==
      R"({"RequestType":"Remove","ResourceType":"MappedVirtualDisk","Settings":{"MountPath":"/m","Lun":2,"Controller":1}})");
  // LCOW tells the guest even for an attach-only disk.
  CHECK(guest(scsi_remove(guest_os::lcow, disk(0, 0, "/d.vhdx", ""))) ==
        R"({"RequestType":"Remove","ResourceType":"MappedVirtualDisk","Settings":{}})");
  CHECK(
      guest(scsi_remove(guest_os::wcow, disk(0, 3, R"(C:\d.vhdx)", R"(C:\mnt)"))) ==
      R"({"RequestType":"Remove","ResourceType":"MappedVirtualDisk","Settings":{"ContainerPath":"C:\\mnt","Lun":3}})");
  // WCOW attach-only disks get the LCOW settings (seed quirk).
  CHECK(guest(scsi_remove(guest_os::wcow, disk(0, 3, R"(C:\d.vhdx)", ""))) ==
        R"({"RequestType":"Remove","ResourceType":"MappedVirtualDisk","Settings":{"Lun":3}})");
}

TEST_CASE("requests: VPMEM, Plan9 and VSMB removes and updates", "[requests]") {
  auto v = vpmem_remove(2, "/run/layers/p2");
  CHECK(
      host(v) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualPMem/Devices/2","RequestType":"Remove"})");
  CHECK(
      guest(v) ==
      R"({"RequestType":"Remove","ResourceType":"VPMemDevice","Settings":{"DeviceNumber":2,"MountPath":"/run/layers/p2"}})");

  auto restricted = plan9_add(plan9_mount{"1", R"(C:\dir)", "/m/x", 0x84, false, {"a.txt"}});
  CHECK(
      host(restricted) ==
      R"({"ResourcePath":"VirtualMachine/Devices/Plan9/Shares","RequestType":"Add","Settings":{"Name":"1","AccessName":"1","Path":"C:\\dir","Port":564,"Flags":132,"AllowedFiles":["a.txt"]}})");
  auto p = plan9_remove("3", "/m/x");
  CHECK(
      host(p) ==
      R"({"ResourcePath":"VirtualMachine/Devices/Plan9/Shares","RequestType":"Remove","Settings":{"Name":"3","AccessName":"3","Port":564}})");
  CHECK(
      guest(p) ==
      R"({"RequestType":"Remove","ResourceType":"MappedDirectory","Settings":{"MountPath":"/m/x","Port":564,"ShareName":"3"}})");

  virtual_smb_share_options o;
  o.restrict_file_access = o.single_file_mapping = true;
  auto u = vsmb_update(virtual_smb_share{"s2", R"(C:\data)", {R"(C:\data\a.txt)"}, o});
  CHECK_FALSE(u.guest);
  CHECK(
      host(u) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualSmb/Shares","RequestType":"Update","Settings":{"Name":"s2","Path":"C:\\data","AllowedFiles":["C:\\data\\a.txt"],"Options":{"RestrictFileAccess":true,"SingleFileMapping":true}}})");
  auto s = vsmb_remove("s1");
  CHECK_FALSE(s.guest);
  CHECK(
      host(s) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualSmb/Shares","RequestType":"Remove","Settings":{"Name":"s1"}})");
}

TEST_CASE("requests: named pipes", "[requests]") {
  auto a = pipe_add(R"(\\.\pipe\foo)");
  CHECK_FALSE(a.guest);
  CHECK(
      host(a) ==
      R"({"ResourcePath":"VirtualMachine/Devices/MappedPipes/\\\\.\\pipe\\foo","RequestType":"Add"})");
  CHECK(
      host(pipe_remove(R"(\\.\pipe\foo)")) ==
      R"({"ResourcePath":"VirtualMachine/Devices/MappedPipes/\\\\.\\pipe\\foo","RequestType":"Remove"})");
  CHECK(is_pipe(R"(\\.\pipe\foo)"));
  CHECK_FALSE(is_pipe(R"(\\.\PIPE\foo)"));
  CHECK_FALSE(is_pipe(R"(C:\pipe\foo)"));

  auto direct = container_pipe_mapping(false, R"(\\.\pipe\src)", R"(\\.\pipe\dst)");
  CHECK(direct.source == R"(\\.\pipe\src)");
  CHECK(direct.destination == "dst");
  auto via_uvm = container_pipe_mapping(true, R"(\\.\pipe\src)", "dst");
  CHECK(via_uvm.source == R"(\\?\VMSMB\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\IPC$\src)");
  CHECK(via_uvm.destination == "dst");
}

TEST_CASE("requests: VPCI devices and combined layers", "[requests]") {
  virtual_pci_device device;
  device.functions.push_back(virtual_pci_function{R"(PCIP\VEN_1)", 0});
  auto a = vpci_add("guid1", device);
  CHECK(
      host(a) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualPci/guid1","RequestType":"Add","Settings":{"Functions":[{"DeviceInstancePath":"PCIP\\VEN_1"}]}})");
  CHECK(guest(a) ==
        R"({"RequestType":"Add","ResourceType":"VPCIDevice","Settings":{"VMBusGUID":"guid1"}})");
  auto r = vpci_remove("guid1");
  CHECK_FALSE(r.guest);
  CHECK(host(r) ==
        R"({"ResourcePath":"VirtualMachine/Devices/VirtualPci/guid1","RequestType":"Remove"})");

  auto l = combine_layers_lcow({"/run/layers/p0", "/run/layers/p1"}, "/run/gcs/c/c1/scratch",
                               "/run/gcs/c/c1/rootfs");
  CHECK_FALSE(l.host);
  CHECK(
      guest(l) ==
      R"({"RequestType":"Add","ResourceType":"CombinedLayers","Settings":{"ContainerRootPath":"/run/gcs/c/c1/rootfs","Layers":[{"Path":"/run/layers/p0"},{"Path":"/run/layers/p1"}],"ScratchPath":"/run/gcs/c/c1/scratch"}})");
  CHECK(combined(l) == R"({"GuestRequest":)" + guest(l) + "}");
  CHECK(
      guest(combine_layers_lcow({"/p0"}, "", "/r")) ==
      R"({"RequestType":"Add","ResourceType":"CombinedLayers","Settings":{"ContainerRootPath":"/r","Layers":[{"Path":"/p0"}]}})");
  layer wl;
  wl.id = "l1";
  wl.path = R"(C:\l)";
  CHECK(
      guest(combine_layers_wcow({wl}, R"(C:\c\1)")) ==
      R"({"RequestType":"Add","ResourceType":"CombinedLayers","Settings":{"ContainerRootPath":"C:\\c\\1","Layers":[{"Id":"l1","Path":"C:\\l"}]}})");
  auto rm = remove_combined_layers("/r");
  CHECK_FALSE(rm.host);
  CHECK(
      guest(rm) ==
      R"({"RequestType":"Remove","ResourceType":"CombinedLayers","Settings":{"ContainerRootPath":"/r"}})");
}

TEST_CASE("requests: LCOW network adapters", "[requests]") {
  auto e = full_endpoint();
  auto a = network_adapter_add_lcow("nic1", e, true);
  CHECK(
      host(a) ==
      R"({"ResourcePath":"VirtualMachine/Devices/NetworkAdapters/nic1","RequestType":"Add","Settings":{"EndpointId":"ep1","MacAddress":"00-15-5D-01-02-03"}})");
  CHECK(
      guest(a) ==
      R"({"RequestType":"Add","ResourceType":"Network","Settings":{"NamespaceID":"ns1","ID":"nic1","MacAddress":"00-15-5D-01-02-03","IPAddress":"10.0.0.5","PrefixLength":24,"GatewayAddress":"10.0.0.1","DNSSuffix":"corp","DNSServerList":"10.0.0.2","EnableLowMetric":true,"EncapOverhead":50}})");
  CHECK_FALSE(network_adapter_add_lcow("nic1", e, false).guest);
  e.ip_address.clear();
  CHECK(guest(network_adapter_add_lcow("nic1", e, true)).find(R"("IPAddress":"\u003cnil\u003e")") !=
        std::string::npos);

  auto r = network_adapter_remove_lcow("nic1", e, true);
  CHECK(
      host(r) ==
      R"({"ResourcePath":"VirtualMachine/Devices/NetworkAdapters/nic1","RequestType":"Remove","Settings":{"EndpointId":"ep1","MacAddress":"00-15-5D-01-02-03"}})");
  // The endpoint id, not the NIC id (seed quirk).
  CHECK(
      guest(r) ==
      R"({"RequestType":"Remove","ResourceType":"Network","Settings":{"NamespaceID":"ns1","ID":"ep1"}})");
  CHECK_FALSE(network_adapter_remove_lcow("nic1", e, false).guest);
}

TEST_CASE("requests: WCOW network adapters and namespaces", "[requests]") {
  auto e = full_endpoint();
  auto pre = network_adapter_preadd_wcow("nic1", ojson{{"ID", "ep1"}}, false);
  CHECK_FALSE(pre.host);
  CHECK(
      guest(pre) ==
      R"({"RequestType":"Add","ResourceType":"Network","Settings":{"AdapterId":"nic1","RequestType":"PreAdd","Settings":{"ID":"ep1"}}})");
  auto a = network_adapter_add_wcow("nic1", e, false);
  CHECK(
      host(a) ==
      R"({"ResourcePath":"VirtualMachine/Devices/NetworkAdapters/nic1","RequestType":"Add","Settings":{"EndpointId":"ep1","MacAddress":"00-15-5D-01-02-03"}})");
  CHECK(
      guest(a) ==
      R"({"RequestType":"Add","ResourceType":"Network","Settings":{"AdapterId":"nic1","RequestType":"Add"}})");
  CHECK(
      guest(network_adapter_add_wcow("nic1", e, true)) ==
      R"({"RequestType":"Add","ResourceType":"Network","Settings":{"AdapterInstanceId":"nic1","RequestType":"Add"}})");
  // The guest part of a WCOW removal is a ModifySettingRequest (seed quirk).
  auto r = network_adapter_remove_wcow("nic1", e, false);
  CHECK(guest(r) ==
        R"({"RequestType":"Remove","Settings":{"AdapterId":"nic1","RequestType":"Remove"}})");
  CHECK(
      combined(r) ==
      R"({"ResourcePath":"VirtualMachine/Devices/NetworkAdapters/nic1","RequestType":"Remove","Settings":{"EndpointId":"ep1","MacAddress":"00-15-5D-01-02-03"},"GuestRequest":{"RequestType":"Remove","Settings":{"AdapterId":"nic1","RequestType":"Remove"}}})");

  auto ns = network_namespace_wcow(request_type::add, ojson{{"ID", "ns1"}});
  CHECK_FALSE(ns.host);
  CHECK(guest(ns) ==
        R"({"RequestType":"Add","ResourceType":"NetworkNamespace","Settings":{"ID":"ns1"}})");
}

TEST_CASE("requests: adds to the host are flagged, and their undo is the Remove", "[requests]") {
  auto add = scsi_add(guest_os::lcow, disk(0, 1, R"(C:\d.vhdx)", "/run/m1", true));
  CHECK(add.host_adds);
  CHECK(host_undo(*add.host) ==
        R"({"ResourcePath":"VirtualMachine/Devices/Scsi/0/Attachments/1","RequestType":"Remove",)"
        R"("Settings":{"Type":"VirtualDisk","Path":"C:\\d.vhdx","ReadOnly":true}})");
  CHECK(scsi_add(guest_os::lcow, disk(0, 2, "d", "")).host_adds);
  CHECK(vpmem_add(0, "l.vhd", "/run/layers/p0").host_adds);
  CHECK(pipe_add(R"(\\.\pipe\p)").host_adds);
  CHECK(network_adapter_add_lcow("nic1", full_endpoint(), true).host_adds);

  CHECK_FALSE(scsi_remove(guest_os::lcow, disk(0, 1, "d", "/m")).host_adds);
  CHECK_FALSE(vpmem_remove(0, "/run/layers/p0").host_adds);
  virtual_smb_share share{"s1", "C:\\x", {}, std::nullopt};
  CHECK_FALSE(vsmb_update(share).host_adds);
  CHECK_FALSE(combine_layers_lcow({"/l"}, "", "/r").host_adds);
  CHECK_FALSE(network_adapter_remove_wcow("nic1", full_endpoint(), false).host_adds);
}

TEST_CASE("requests: a running VM's memory and processors, as hcsshim sends them", "[requests]") {
  auto size = normalize_memory(4096ULL << 20);
  CHECK(size.size_in_mb == 4096);
  CHECK(size.warning.empty());
  auto memory = memory_update(size.size_in_mb);
  CHECK_FALSE(memory.guest);
  CHECK_FALSE(memory.host_adds);
  CHECK(*memory.host ==
        R"({"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","Settings":4096})");
  // Whole MB, then an odd count rounded up to even, with create's warning.
  auto odd = normalize_memory((1025ULL << 20) + 12345);
  CHECK(odd.size_in_mb == 1026);
  CHECK(odd.warning ==
        "Changing user requested MemorySizeInMB to align to 2MB (requested 1025, assigned 1026)");
  CHECK(normalize_memory(1000).size_in_mb == 0);

  processor_limits limits;
  limits.limit = 50000;
  limits.weight = 200;
  CHECK(*processor_limits_update(limits).host ==
        R"({"ResourcePath":"VirtualMachine/ComputeTopology/Processor/Limits",)"
        R"("Settings":{"Limit":50000,"Weight":200}})");
  CHECK(*processor_count_update(4).host ==
        R"({"ResourcePath":"VirtualMachine/ComputeTopology/Processor","Settings":{"Count":4}})");
}

TEST_CASE("requests: packed VPMEM layers, as later hcsshim writes them", "[requests][vpmem]") {
  vpmem_packed_layer first{3, 0, 8192, "/l/a.vhd", "/run/layers/p3-0-8192"};
  auto device = vpmem_map(first, true);
  CHECK(
      host(device) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualPMem/Devices/3","RequestType":"Add","Settings":{"HostPath":"/l/a.vhd","ReadOnly":true,"ImageFormat":"Vhd1"}})");
  // Offset 0 is omitted, as Go's omitempty does.
  CHECK(
      guest(device) ==
      R"({"RequestType":"Add","ResourceType":"VPMemDevice","Settings":{"DeviceNumber":3,"MountPath":"/run/layers/p3-0-8192","MappingInfo":{"DeviceSizeInBytes":8192}}})");
  CHECK(device.host_adds);

  vpmem_packed_layer second{3, 8192, 4096, "/l/b.vhd", "/run/layers/p3-8192-4096"};
  auto mapping = vpmem_map(second, false);
  CHECK(
      host(mapping) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualPMem/Devices/3/Mappings/8192","RequestType":"Add","Settings":{"HostPath":"/l/b.vhd","ImageFormat":"Vhd1"}})");
  CHECK(
      guest(mapping) ==
      R"({"RequestType":"Add","ResourceType":"VPMemDevice","Settings":{"DeviceNumber":3,"MountPath":"/run/layers/p3-8192-4096","MappingInfo":{"DeviceOffsetInBytes":8192,"DeviceSizeInBytes":4096}}})");

  CHECK(
      host(vpmem_unmap(second, false)) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualPMem/Devices/3/Mappings/8192","RequestType":"Remove"})");
  CHECK(
      guest(vpmem_unmap(second, false)) ==
      R"({"RequestType":"Remove","ResourceType":"VPMemDevice","Settings":{"DeviceNumber":3,"MountPath":"/run/layers/p3-8192-4096","MappingInfo":{"DeviceOffsetInBytes":8192,"DeviceSizeInBytes":4096}}})");
  CHECK(
      host(vpmem_unmap(second, true)) ==
      R"({"ResourcePath":"VirtualMachine/Devices/VirtualPMem/Devices/3","RequestType":"Remove"})");
}
