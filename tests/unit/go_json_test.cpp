// Go-compatible JSON bytes (hcs/go_json) and the hcsschema types built with
// them (hcs/schema), checked against the v0.8.8 vectors.
#include "gojson/go_json.hpp"
#include "hcs/schema.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

using namespace uvm::hcs;
using namespace uvm::gojson;
using nlohmann::ordered_json;

namespace {

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string dump_double(double d) {
  return go_dump(ordered_json(d));
}

// Host-sent bridge bodies: envelope for the null container, then '\n'.
std::string bridge_body(const ordered_json& request) {
  ordered_json body = ordered_json::object();
  body["ContainerId"] = "00000000-0000-0000-0000-000000000000";
  body["ActivityId"] = "00000000-0000-0000-0000-000000000000";
  body["Request"] = request;
  return go_dump(body) + "\n";
}

} // namespace

TEST_CASE("go_dump is compact and keeps insertion order", "[go_json]") {
  ordered_json j = ordered_json::object();
  j["z"] = 1;
  j["a"] = ordered_json::array({true, false, nullptr});
  j["m"] = ordered_json::object();
  j["e"] = ordered_json::array();
  j["s"] = "x";
  CHECK(go_dump(j) == R"({"z":1,"a":[true,false,null],"m":{},"e":[],"s":"x"})");
}

TEST_CASE("go_dump escapes strings like Go", "[go_json]") {
  CHECK(go_dump("a\"b\\c") == R"("a\"b\\c")");
  CHECK(go_dump("\n\r\t") == R"("\n\r\t")");
  CHECK(go_dump(std::string("\x01\b\f\x1f", 4)) == R"("\u0001\u0008\u000c\u001f")");
  CHECK(go_dump(std::string("\0", 1)) == R"("\u0000")");
  CHECK(go_dump("<a href='x'>&</a>") == R"("\u003ca href='x'\u003e\u0026\u003c/a\u003e")");
  CHECK(go_dump("/\x7f") == "\"/\x7f\"");
  CHECK(go_dump("C:\\Program Files") == R"("C:\\Program Files")");
  // Valid UTF-8 stays raw except the two JavaScript line separators.
  CHECK(go_dump("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") ==
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  CHECK(go_dump("a\xe2\x80\xa8"
                "b\xe2\x80\xa9") == R"("a\u2028b\u2029")");
  // Invalid bytes become U+FFFD one byte at a time.
  CHECK(go_dump("\xff") == R"("\ufffd")");
  CHECK(go_dump("\xc0\x80") == R"("\ufffd\ufffd")");                     // overlong
  CHECK(go_dump("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");           // surrogate
  CHECK(go_dump("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")"); // > U+10FFFF
  CHECK(go_dump("\xe2\x82") == R"("\ufffd\ufffd")");                     // truncated
  // Long plain runs are scanned a word at a time: a byte to escape is found
  // wherever it stands in one.
  for (std::string special :
       {"\"", "\\", "<", ">", "&", "\x01", "\x1f", "\x7f", "\xff", "\xc3\xa9", "\xe2\x80\xa8"}) {
    auto alone = go_dump(special);
    auto escaped = alone.substr(1, alone.size() - 2);
    for (size_t at = 0; at <= 20; ++at) {
      std::string text = std::string(at, 'x') + special + std::string(20 - at, 'y');
      CHECK(go_dump(text) ==
            "\"" + std::string(at, 'x') + escaped + std::string(20 - at, 'y') + "\"");
    }
  }
  // Keys follow the same rules.
  ordered_json j = ordered_json::object();
  j["<k>"] = 1;
  CHECK(go_dump(j) == R"({"\u003ck\u003e":1})");
}

TEST_CASE("go_dump prints numbers like Go", "[go_json]") {
  CHECK(go_dump(ordered_json(0)) == "0");
  CHECK(go_dump(ordered_json(-42)) == "-42");
  CHECK(go_dump(ordered_json(std::numeric_limits<uint64_t>::max())) == "18446744073709551615");
  CHECK(go_dump(ordered_json(std::numeric_limits<int64_t>::min())) == "-9223372036854775808");
  CHECK(dump_double(1024.0) == "1024");
  CHECK(dump_double(4294967296.0) == "4294967296");
  CHECK(dump_double(0.5) == "0.5");
  CHECK(dump_double(0.1) == "0.1");
  CHECK(dump_double(-2.25) == "-2.25");
  CHECK(dump_double(0.0) == "0");
  CHECK(dump_double(-0.0) == "-0");
  CHECK(dump_double(1e20) == "100000000000000000000");
  CHECK(dump_double(1e21) == "1e+21");
  CHECK(dump_double(1.5e300) == "1.5e+300");
  CHECK(dump_double(0.000001) == "0.000001");
  CHECK(dump_double(1e-7) == "1e-7");
  CHECK(dump_double(-1.5e-10) == "-1.5e-10");
  CHECK(dump_double(1e-100) == "1e-100");
  CHECK(dump_double(9007199254740993.0) == "9007199254740992");
}

TEST_CASE("go_syntax_error reports Go's first error", "[go_json]") {
  CHECK(go_syntax_error(R"({"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"],"b":{}} )") == "");
  CHECK(go_syntax_error(" null ") == "");
  CHECK(go_syntax_error("") == "unexpected end of JSON input");
  CHECK(go_syntax_error(" \n") == "unexpected end of JSON input");
  CHECK(go_syntax_error("{") == "unexpected end of JSON input");
  CHECK(go_syntax_error(R"({"a":)") == "unexpected end of JSON input");
  CHECK(go_syntax_error(R"("abc)") == "unexpected end of JSON input");
  CHECK(go_syntax_error("tru") == "unexpected end of JSON input");
  CHECK(go_syntax_error("1.") == "unexpected end of JSON input");
  CHECK(go_syntax_error("x") == "invalid character 'x' looking for beginning of value");
  CHECK(go_syntax_error("{x") ==
        "invalid character 'x' looking for beginning of object key string");
  CHECK(go_syntax_error(R"({"a":1,})") ==
        "invalid character '}' looking for beginning of object key string");
  CHECK(go_syntax_error(R"({"a" 1})") == "invalid character '1' after object key");
  CHECK(go_syntax_error(R"({"a":1 "b":2})") ==
        R"(invalid character '"' after object key:value pair)");
  CHECK(go_syntax_error("[1,]") == "invalid character ']' looking for beginning of value");
  CHECK(go_syntax_error("[1 2]") == "invalid character '2' after array element");
  CHECK(go_syntax_error("{} x") == "invalid character 'x' after top-level value");
  CHECK(go_syntax_error("01") == "invalid character '1' after top-level value");
  CHECK(go_syntax_error("trux") == "invalid character 'x' in literal true (expecting 'e')");
  CHECK(go_syntax_error("fals!") == "invalid character '!' in literal false (expecting 'e')");
  CHECK(go_syntax_error("nUll") == "invalid character 'U' in literal null (expecting 'u')");
  CHECK(go_syntax_error("-x") == "invalid character 'x' in numeric literal");
  CHECK(go_syntax_error("1.x") == "invalid character 'x' after decimal point in numeric literal");
  CHECK(go_syntax_error("1e+x") == "invalid character 'x' in exponent of numeric literal");
  CHECK(go_syntax_error("\"a\x01\"") == R"(invalid character '\x01' in string literal)");
  CHECK(go_syntax_error("\"a\n\"") == R"(invalid character '\n' in string literal)");
  CHECK(go_syntax_error(R"("\x")") == "invalid character 'x' in string escape code");
  CHECK(go_syntax_error(R"("\u12x4")") ==
        R"(invalid character 'x' in \u hexadecimal character escape)");
  CHECK(go_syntax_error("'a'") == R"(invalid character '\'' looking for beginning of value)");
  CHECK(go_syntax_error("\\") == R"(invalid character '\\' looking for beginning of value)");
  CHECK(go_syntax_error("\xc3\xa9") ==
        "invalid character '\xc3\x83' looking for beginning of value");
  CHECK(go_syntax_error("\x85") == R"(invalid character '\u0085' looking for beginning of value)");
  CHECK(go_syntax_error(std::string(10001, '[')) == "invalid character '[' exceeded max depth");
}

TEST_CASE("find_ci prefers an exact match, then ignores ASCII case", "[go_json]") {
  auto j = nlohmann::json::parse(R"({"Foo":1,"foo":2,"Bar":3})");
  REQUIRE(find_ci(j, "foo") != nullptr);
  CHECK(*find_ci(j, "foo") == 2);
  CHECK(*find_ci(j, "Foo") == 1);
  CHECK(*find_ci(j, "BAR") == 3);
  CHECK(*find_ci(j, "bar") == 3);
  CHECK(find_ci(j, "baz") == nullptr);
  CHECK(find_ci(j, "fo") == nullptr);
  CHECK(find_ci(nlohmann::json::array({1}), "foo") == nullptr);
  CHECK(find_ci(nlohmann::json(nullptr), "foo") == nullptr);
}

TEST_CASE("schema: empty members are omitted, empty sub-objects are {}", "[schema]") {
  CHECK(go_dump(to_json(attachment{})) == "{}");
  compute_system cs;
  cs.virtual_machine.emplace().guest_connection.emplace();
  cs.virtual_machine->devices.emplace().scsi["0"] = scsi{};
  cs.virtual_machine->devices->plan9.emplace();
  CHECK(go_dump(to_json(cs)) ==
        R"({"VirtualMachine":{"Devices":{"Scsi":{"0":{}},"Plan9":{}},"GuestConnection":{}}})");

  modify_setting_request remove{scsi_attachment_path(0, 3), request_type::remove, {}, {}};
  CHECK(go_dump(to_json(remove)) ==
        R"({"ResourcePath":"VirtualMachine/Devices/Scsi/0/Attachments/3","RequestType":"Remove"})");
  modify_setting_request no_guest{"p", "Add", {}, {}};
  CHECK(go_dump(to_json(no_guest)) == R"({"ResourcePath":"p","RequestType":"Add"})");
  CHECK(go_text(no_guest) == R"({"ResourcePath":"p","RequestType":"Add"})");
}

TEST_CASE("schema: maps are written in byte order of their keys", "[schema]") {
  devices d;
  d.scsi["1"] = scsi{};
  d.scsi["0"].attachments["10"] = attachment{};
  d.scsi["0"].attachments["2"].path = "p";
  d.com_ports["0"].named_pipe = R"(\\.\pipe\vmpipe)";
  CHECK(go_dump(to_json(d)) ==
        R"({"ComPorts":{"0":{"NamedPipe":"\\\\.\\pipe\\vmpipe"}},)"
        R"("Scsi":{"0":{"Attachments":{"10":{},"2":{"Path":"p"}}},"1":{}}})");
}

TEST_CASE("schema: VirtualSmbShareOptions writes all 17 flags in order", "[schema]") {
  virtual_smb_share_options o;
  o.read_only = o.share_read = o.cache_io = o.no_oplocks = o.take_backup_privilege = true;
  o.use_share_root_identity = o.no_directmap = o.no_locks = o.no_dirnotify = true;
  o.vm_shared_memory = o.restrict_file_access = o.force_level_ii_oplocks = true;
  o.reparse_base_layer = o.pseudo_oplocks = o.non_cache_io = o.pseudo_dirnotify = true;
  o.single_file_mapping = true;
  CHECK(go_dump(to_json(o)) ==
        R"({"ReadOnly":true,"ShareRead":true,"CacheIo":true,"NoOplocks":true,)"
        R"("TakeBackupPrivilege":true,"UseShareRootIdentity":true,"NoDirectmap":true,)"
        R"("NoLocks":true,"NoDirnotify":true,"VmSharedMemory":true,"RestrictFileAccess":true,)"
        R"("ForceLevelIIOplocks":true,"ReparseBaseLayer":true,"PseudoOplocks":true,)"
        R"("NonCacheIo":true,"PseudoDirnotify":true,"SingleFileMapping":true})");
}

TEST_CASE("schema: resource paths", "[schema]") {
  CHECK(scsi_attachment_path(0, 63) == "VirtualMachine/Devices/Scsi/0/Attachments/63");
  CHECK(vpmem_device_path(12) == "VirtualMachine/Devices/VirtualPMem/Devices/12");
  CHECK(std::string(vsmb_shares_path) == "VirtualMachine/Devices/VirtualSmb/Shares");
  CHECK(std::string(plan9_shares_path) == "VirtualMachine/Devices/Plan9/Shares");
  CHECK(mapped_pipe_path(R"(\\.\pipe\foo)") ==
        R"(VirtualMachine/Devices/MappedPipes/\\.\pipe\foo)");
  CHECK(network_adapter_path("nic") == "VirtualMachine/Devices/NetworkAdapters/nic");
  CHECK(virtual_pci_path("g") == "VirtualMachine/Devices/VirtualPci/g");
}

TEST_CASE("schema: SCSI add requests match the vectors", "[schema][vectors]") {
  attachment disk;
  disk.type = "VirtualDisk";
  disk.path = R"(C:\ContainerData\ctr1\sandbox.vhdx)";
  lcow_mapped_virtual_disk mount;
  mount.mount_path = "/run/gcs/c/ctr1";
  guest_request guest{request_type::add, resource_type::mapped_virtual_disk, {go_text(mount)}};
  modify_setting_request req{scsi_attachment_path(0, 0), request_type::add, {go_text(disk)}, {}};
  CHECK(go_dump(to_json(req)) == read_vector("scsi-add-lcow.hcs.json"));
  req.guest_request = {go_text(guest)};
  CHECK(go_dump(to_json(req)) == read_vector("scsi-add-lcow.modify.json"));
  CHECK(go_text(req) == read_vector("scsi-add-lcow.modify.json"));
  CHECK(bridge_body(to_json(guest)) == read_vector("scsi-add-lcow.bridge-body.json"));

  attachment layer_disk;
  layer_disk.type = "VirtualDisk";
  layer_disk.path = R"(C:\ContainerData\layers\big\layer.vhd)";
  layer_disk.read_only = true;
  lcow_mapped_virtual_disk layer_mount{"/run/mounts/m1", 1, 0, true};
  modify_setting_request ro{
      scsi_attachment_path(0, 1),
      request_type::add,
      {go_text(layer_disk)},
      {go_text(guest_request{
          request_type::add, resource_type::mapped_virtual_disk, {go_text(layer_mount)}})}};
  CHECK(go_dump(to_json(ro)) == read_vector("scsi-add-lcow-lun1-ro.modify.json"));
}

TEST_CASE("schema: VPMEM add request matches the vectors", "[schema][vectors]") {
  virtual_pmem_device dev{R"(C:\ContainerData\layers\l1\layer.vhd)", true, "Vhd1"};
  guest_request guest{request_type::add,
                      resource_type::vpmem_device,
                      {go_text(lcow_mapped_vpmem_device{0, "/run/layers/p0", std::nullopt})}};
  modify_setting_request req{vpmem_device_path(0), request_type::add, {go_text(dev)}, {}};
  CHECK(go_dump(to_json(req)) == read_vector("vpmem-add-lcow.hcs.json"));
  req.guest_request = {go_text(guest)};
  CHECK(go_dump(to_json(req)) == read_vector("vpmem-add-lcow.modify.json"));
  CHECK(bridge_body(to_json(guest)) == read_vector("vpmem-add-lcow.bridge-body.json"));
}

TEST_CASE("schema: Plan9 add request matches the vectors", "[schema][vectors]") {
  plan9_share share;
  share.name = share.access_name = "0";
  share.path = R"(C:\share\data)";
  share.port = 564;
  share.flags = plan9_share::flag_linux_metadata | plan9_share::flag_read_only;
  guest_request guest{request_type::add,
                      resource_type::mapped_directory,
                      {go_text(lcow_mapped_directory{"/run/mounts/m2", 564, "0", true})}};
  modify_setting_request req{plan9_shares_path, request_type::add, {go_text(share)}, {}};
  CHECK(go_dump(to_json(req)) == read_vector("plan9-add-lcow.hcs.json"));
  req.guest_request = {go_text(guest)};
  CHECK(go_dump(to_json(req)) == read_vector("plan9-add-lcow.modify.json"));
  CHECK(bridge_body(to_json(guest)) == read_vector("plan9-add-lcow.bridge-body.json"));
}

TEST_CASE("schema: VSMB add request matches the vector", "[schema][vectors]") {
  virtual_smb_share_options o;
  o.read_only = o.pseudo_oplocks = o.take_backup_privilege = o.cache_io = o.share_read = true;
  virtual_smb_share share{"s1", R"(C:\ContainerData\layers\l1)", {}, o};
  modify_setting_request req{vsmb_shares_path, request_type::add, {go_text(share)}, {}};
  CHECK(go_dump(to_json(req)) == read_vector("vsmb-add-wcow.modify.json"));

  share.allowed_files = {"a.txt", "b.txt"};
  CHECK(go_dump(to_json(share)).find(R"("AllowedFiles":["a.txt","b.txt"],"Options")") !=
        std::string::npos);
}

TEST_CASE("schema: guest settings of the other operations", "[schema]") {
  CHECK(go_dump(to_json(wcow_mapped_virtual_disk{R"(C:\mounts\m1)", 0})) ==
        R"({"ContainerPath":"C:\\mounts\\m1"})");
  CHECK(go_dump(to_json(wcow_mapped_virtual_disk{"", 2})) == R"({"Lun":2})");
  CHECK(go_dump(to_json(lcow_mapped_virtual_disk{"", 3, 1, false})) ==
        R"({"Lun":3,"Controller":1})");
  CHECK(go_dump(to_json(lcow_mapped_vpmem_device{5, "/run/layers/p5", std::nullopt})) ==
        R"({"DeviceNumber":5,"MountPath":"/run/layers/p5"})");
  CHECK(go_dump(to_json(lcow_mapped_vpci_device{"g"})) == R"({"VMBusGUID":"g"})");

  combined_layers lcow{"/run/gcs/c/c1/rootfs", {}, "/run/gcs/c/c1/scratch"};
  lcow.layers.push_back(layer{"", "/run/layers/p0", "", ""});
  lcow.layers.push_back(layer{"", "/run/layers/p1", "", ""});
  CHECK(go_dump(to_json(lcow)) ==
        R"({"ContainerRootPath":"/run/gcs/c/c1/rootfs","Layers":[{"Path":"/run/layers/p0"},)"
        R"({"Path":"/run/layers/p1"}],"ScratchPath":"/run/gcs/c/c1/scratch"})");
  CHECK(go_dump(to_json(combined_layers{"/r", {}, ""})) == R"({"ContainerRootPath":"/r"})");

  lcow_network_adapter nic;
  nic.namespace_id = "ns";
  nic.id = "nic";
  nic.mac_address = "00-15-5D-00-00-01";
  nic.ip_address = "10.0.0.2";
  nic.prefix_length = 24;
  nic.encap_overhead = 50;
  CHECK(go_dump(to_json(nic)) ==
        R"({"NamespaceID":"ns","ID":"nic","MacAddress":"00-15-5D-00-00-01",)"
        R"("IPAddress":"10.0.0.2","PrefixLength":24,"EncapOverhead":50})");

  network_modify_request add{"nic", request_type::add, {}, false};
  CHECK(go_dump(to_json(add)) == R"({"AdapterId":"nic","RequestType":"Add"})");
  network_modify_request rs4{"nic", request_type::pre_add, ordered_json{{"ID", "ep"}}, true};
  CHECK(go_dump(to_json(rs4)) ==
        R"({"AdapterInstanceId":"nic","RequestType":"PreAdd","Settings":{"ID":"ep"}})");

  virtual_pci_device vpci;
  vpci.functions.push_back(virtual_pci_function{R"(PCIP\VEN_10DE)", 0});
  CHECK(go_dump(to_json(vpci)) == R"({"Functions":[{"DeviceInstancePath":"PCIP\\VEN_10DE"}]})");
  CHECK(go_dump(to_json(network_adapter{"ep", "mac"})) ==
        R"({"EndpointId":"ep","MacAddress":"mac"})");
}

TEST_CASE("schema: go_text writes what go_dump(to_json()) writes", "[schema]") {
  auto same = [](const auto& x) { CHECK(go_text(x) == go_dump(to_json(x))); };
  // Escapes, HTML-safe characters, U+2028, invalid UTF-8 and a control byte.
  const std::string odd = "C:\\a<b>&\"c\"\n\t\xe2\x80\xa8\xc3\xa9\xff\x01";

  same(attachment{});
  attachment disk{"PassThru", odd, true, "Cached", true, true, true, true, true};
  same(disk);
  same(lcow_mapped_virtual_disk{odd, 63, 3, true});
  same(wcow_mapped_virtual_disk{odd, -1});
  same(virtual_pmem_device{odd, true, "Vhd1"});
  same(lcow_mapped_vpmem_device{7, odd, std::nullopt});
  plan9_share share{odd, odd, odd, 564, 0x85, true, true, {odd, "b"}};
  same(share);
  same(lcow_mapped_directory{odd, 564, "0", true});
  virtual_smb_share_options o;
  o.read_only = o.no_locks = o.single_file_mapping = true;
  same(virtual_smb_share{odd, odd, {"a", odd}, o});
  same(virtual_smb_share{"s", "", {}, virtual_smb_share_options{}});
  same(network_adapter{odd, "mac"});
  same(lcow_network_adapter{"ns", "id", "mac", "<nil>", 24, "gw", "sfx", "dns", true, 50});
  same(network_modify_request{"nic", request_type::pre_add,
                              ordered_json{{"ID", odd}, {"N", {1, 2.5, nullptr, true}}}, true});
  same(network_modify_request{"nic", request_type::remove, nullptr, false});
  same(virtual_pci_device{{{odd, 2}, {"x", 0}}});
  same(lcow_mapped_vpci_device{odd});
  same(combined_layers{odd, {{"id", odd, "AbsolutePath", ""}, {}}, odd});

  // Raw members go out as they are, as Go writes a json.RawMessage; to_json()
  // parses them, which turns the \ufffd escape of invalid UTF-8 into U+FFFD.
  guest_request guest{request_type::add, resource_type::mapped_virtual_disk, {go_text(share)}};
  CHECK(go_text(guest).find(go_text(share)) != std::string::npos);
  CHECK(ordered_json::parse(go_text(guest)) == to_json(guest));
  lcow_mapped_directory clean{"C:\\a<b>&\"\u2028", 564, "0", true};
  guest_request clean_guest{request_type::add, resource_type::mapped_directory, {go_text(clean)}};
  same(clean_guest);
  same(modify_setting_request{odd, request_type::add, {go_text(clean)}, {go_text(clean_guest)}});
  same(modify_setting_request{"p", request_type::remove, {}, {}});

  // Settings written in place: the text of the request with raw settings.
  CHECK(go_text(modify_setting_request_of<attachment>{
            odd, request_type::add, {&disk}, {go_text(clean_guest)}}) ==
        go_text(modify_setting_request{
            odd, request_type::add, {go_text(disk)}, {go_text(clean_guest)}}));
  CHECK(go_text(modify_setting_request_of<attachment>{"p", request_type::remove, {}, {}}) ==
        go_text(modify_setting_request{"p", request_type::remove, {}, {}}));
  attachment empty_disk;
  CHECK(go_text(modify_setting_request_of<attachment>{"p", request_type::add, {&empty_disk}, {}}) ==
        R"({"ResourcePath":"p","RequestType":"Add","Settings":{}})");
  lcow_mapped_virtual_disk lcow_disk{odd, 63, 3, true};
  CHECK(go_text(guest_request_of<lcow_mapped_virtual_disk>{
            request_type::add, resource_type::mapped_virtual_disk, {&lcow_disk}}) ==
        go_text(guest_request{
            request_type::add, resource_type::mapped_virtual_disk, {go_text(lcow_disk)}}));
  wcow_mapped_virtual_disk wcow_disk{odd, -1};
  CHECK(go_text(guest_request_of<wcow_mapped_virtual_disk>{
            request_type::remove, resource_type::mapped_virtual_disk, {&wcow_disk}}) ==
        go_text(guest_request{
            request_type::remove, resource_type::mapped_virtual_disk, {go_text(wcow_disk)}}));

  compute_system cs;
  cs.owner = odd;
  cs.schema_version = version{2, 1};
  cs.hosted_system = ordered_json{{"b", 1}, {"a", odd}};
  auto& vm = cs.virtual_machine.emplace();
  vm.stop_on_reset = true;
  vm.chipset.emplace().linux_kernel_direct = linux_kernel_direct{"k", "i", odd};
  vm.compute_topology.emplace().memory =
      memory2{1024, true, true, false, false, true, false, 1, 2, 3};
  auto& d = vm.devices.emplace();
  d.com_ports["0"].named_pipe = odd;
  d.scsi["0"].attachments["10"] = disk;
  d.scsi["0"].attachments["2"] = attachment{};
  d.scsi["1"] = scsi{};
  d.keyboard.emplace();
  d.plan9.emplace().shares.push_back(share);
  d.hv_socket.emplace().hv_socket_config.emplace().service_table["{g}"] =
      hv_socket_service_config{odd, "", true};
  d.virtual_pci["g"] = virtual_pci_device{{{odd, 1}}};
  vm.guest_connection.emplace();
  same(cs);
}
