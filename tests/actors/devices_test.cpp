// The device children through the embedding API: VPMEM, VSMB, Plan9, named
// pipes, network namespaces, VPCI and combined layers, checked against the
// engine's view, the simulated HCS's oracle and the in-process guest's mount
// table; and device calls in flight when the VM exits.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "tests/actors/deterministic.hpp"

using namespace std::chrono_literals;
using uvm::test::host_dir;

namespace {

const std::string vsmb_prefix = R"(\\?\VMSMB\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\)";

uvm::engine_config test_config() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  // A hung call fails the test within 20 s: the bridge's deadline, then
  // the caller's (engine::caller_wait).
  cfg.bridge_rpc_timeout = std::chrono::seconds(15);
  cfg.cleanup_margin = std::chrono::seconds(5);
  cfg.call_timeout = std::chrono::seconds(20);
  return cfg;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// A file of `size` bytes under the test's host folder.
std::string make_file(const host_dir& host, const std::string& rel, size_t size = 16) {
  auto path = host.path(rel);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << std::string(size, 'x');
  return path;
}

std::string make_dir(const host_dir& host, const std::string& rel) {
  auto path = host.path(rel);
  std::filesystem::create_directories(path);
  return path;
}

uvm::utility_vm start_lcow(uvm::engine& eng, uvm::options_lcow opts) {
  auto vm = eng.create_lcow(std::move(opts));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  return *vm;
}

uvm::utility_vm start_wcow(uvm::engine& eng, uvm::options_wcow opts) {
  auto vm = eng.create_wcow(std::move(opts));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  return *vm;
}

nlohmann::json view_of(uvm::utility_vm& vm) {
  auto v = vm.device_view();
  REQUIRE(v);
  return nlohmann::json::parse(*v);
}

nlohmann::json guest_mounts(uvm::utility_vm& vm) {
  return view_of(vm)["gcs_bridge"]["mounts"];
}

nlohmann::json oracle_of(uvm::engine& eng, const std::string& id) {
  return eng.sim().oracle()[id];
}

bool is_guid(const std::string& s) {
  static const std::regex guid{"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"};
  return std::regex_match(s, guid);
}

uvm::hcs::network_endpoint endpoint(const std::string& id, const std::string& mac,
                                    const std::string& ns) {
  uvm::hcs::network_endpoint e;
  e.id = id;
  e.mac_address = mac;
  e.namespace_id = ns;
  e.ip_address = "10.0.0.2";
  e.prefix_length = 24;
  e.gateway_address = "10.0.0.1";
  return e;
}

uvm::hcs::virtual_pci_device gpu() {
  uvm::hcs::virtual_pci_device d;
  d.functions.push_back({R"(PCIP\VEN_10DE&DEV_1EB8&SUBSYS_12A210DE&REV_A1\6&1)", 0});
  return d;
}

// The endpoint ids the simulated HCS has NICs for.
std::multiset<std::string> adapter_endpoints(const nlohmann::json& oracle) {
  std::multiset<std::string> out;
  for (const auto& nic : oracle["network_adapters"]) {
    out.insert(nic["EndpointId"].get<std::string>());
  }
  return out;
}

} // namespace

// ---- VPMEM ----------------------------------------------------------------

TEST_CASE("VPMEM devices get /run/layers/p<n> and are ref-counted per host path",
          "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("vpmem-refs"));
  auto a = make_file(host, "layers/a/layer.vhd");
  auto b = make_file(host, "layers/b/layer.vhd");

  auto pa = vm.add_vpmem(a);
  REQUIRE(pa);
  CHECK(*pa == "/run/layers/p0");
  auto pb = vm.add_vpmem(b);
  REQUIRE(pb);
  CHECK(*pb == "/run/layers/p1");

  auto oracle = oracle_of(eng, "vpmem-refs");
  REQUIRE(oracle["vpmem"].size() == 2);
  CHECK(oracle["vpmem"]["0"]["HostPath"] == a);
  CHECK(oracle["vpmem"]["0"]["ReadOnly"] == true);
  CHECK(oracle["vpmem"]["1"]["HostPath"] == b);
  auto mounts = guest_mounts(vm);
  CHECK(mounts.contains("VPMemDevice /run/layers/p0"));
  CHECK(mounts.contains("VPMemDevice /run/layers/p1"));

  // A second add of the same file takes a ref on the same device.
  auto again = vm.add_vpmem(a);
  REQUIRE(again);
  CHECK(*again == "/run/layers/p0");
  CHECK(oracle_of(eng, "vpmem-refs")["vpmem"].size() == 2);
  CHECK(view_of(vm)["vpmem"]["devices"]["0"]["refs"] == 2);

  // The first remove drops a ref only; the second detaches.
  REQUIRE_FALSE(vm.remove_vpmem(a));
  CHECK(oracle_of(eng, "vpmem-refs")["vpmem"].contains("0"));
  CHECK(view_of(vm)["vpmem"]["devices"]["0"]["refs"] == 1);
  CHECK(guest_mounts(vm).contains("VPMemDevice /run/layers/p0"));
  REQUIRE_FALSE(vm.remove_vpmem(a));
  oracle = oracle_of(eng, "vpmem-refs");
  CHECK_FALSE(oracle["vpmem"].contains("0"));
  CHECK(oracle["vpmem"].contains("1"));
  CHECK_FALSE(guest_mounts(vm).contains("VPMemDevice /run/layers/p0"));
  CHECK_FALSE(view_of(vm)["vpmem"]["devices"].contains("0"));
  auto third = vm.remove_vpmem(a);
  CHECK(third.code == uvm::errc::not_attached);
  CHECK(third.text == "not attached");

  // The freed slot is the first free one again.
  auto c = make_file(host, "layers/c/layer.vhd");
  auto pc = vm.add_vpmem(c);
  REQUIRE(pc);
  CHECK(*pc == "/run/layers/p0");
  CHECK(oracle_of(eng, "vpmem-refs")["vpmem"]["0"]["HostPath"] == c);
  CHECK_FALSE(vm.close());
}

TEST_CASE("VPMEM multi-mapping packs layers into one device, ref-counted per layer",
          "[devices][vpmem][packed][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto opts = host.lcow("vpmem-packed");
  opts.vpmem_no_multi_mapping = false;
  auto vm = start_lcow(eng, opts);
  // 8 layers of 5000 bytes: two pages each.
  std::vector<std::string> layers;
  for (int i = 0; i < 8; ++i) {
    layers.push_back(make_file(host, "layers/l" + std::to_string(i) + "/layer.vhd", 5000));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    auto p = vm.add_vpmem(layers[i]);
    REQUIRE(p);
    CHECK(*p == "/run/layers/p0-" + std::to_string(i * 8192) + "-8192");
  }
  auto device = oracle_of(eng, "vpmem-packed")["vpmem"];
  REQUIRE(device.size() == 1);
  // The first layer adds the device; the others are its mappings.
  CHECK(device["0"]["HostPath"] == layers[0]);
  REQUIRE(device["0"]["Mappings"].size() == 7);
  for (size_t i = 1; i < layers.size(); ++i) {
    CHECK(device["0"]["Mappings"][std::to_string(i * 8192)]["HostPath"] == layers[i]);
  }
  auto view = view_of(vm)["vpmem"];
  CHECK(view["multi_mapping"] == true);
  CHECK(view["devices"]["0"]["state"] == "packed");
  CHECK(view["devices"]["0"]["mappings"].size() == 8);
  for (size_t i = 0; i < layers.size(); ++i) {
    CHECK(guest_mounts(vm).contains("VPMemDevice /run/layers/p0-" + std::to_string(i * 8192) +
                                    "-8192"));
  }

  // Refs are per layer: a second add of layer 3 shares its mapping.
  REQUIRE(vm.add_vpmem(layers[3]));
  REQUIRE_FALSE(vm.remove_vpmem(layers[3]));
  CHECK(oracle_of(eng, "vpmem-packed")["vpmem"]["0"]["Mappings"].contains("24576"));
  // Removing one layer keeps the others and the device.
  REQUIRE_FALSE(vm.remove_vpmem(layers[3]));
  device = oracle_of(eng, "vpmem-packed")["vpmem"];
  CHECK_FALSE(device["0"]["Mappings"].contains("24576"));
  CHECK(device["0"]["Mappings"].size() == 6);
  CHECK_FALSE(guest_mounts(vm).contains("VPMemDevice /run/layers/p0-24576-8192"));
  CHECK(guest_mounts(vm).contains("VPMemDevice /run/layers/p0-16384-8192"));
  // The freed range is used again.
  auto c = make_file(host, "layers/c/layer.vhd", 100);
  CHECK(*vm.add_vpmem(c) == "/run/layers/p0-24576-4096");
  CHECK(oracle_of(eng, "vpmem-packed")["vpmem"]["0"]["Mappings"]["24576"]["HostPath"] == c);

  // The device's own layer leaves through Mappings/0; the last layer removes
  // the device.
  REQUIRE_FALSE(vm.remove_vpmem(layers[0]));
  CHECK(oracle_of(eng, "vpmem-packed")["vpmem"]["0"]["BaseMapped"] == false);
  layers.erase(layers.begin());
  layers[2] = c;
  for (const auto& l : layers) {
    REQUIRE_FALSE(vm.remove_vpmem(l));
  }
  CHECK(oracle_of(eng, "vpmem-packed")["vpmem"].empty());
  CHECK(view_of(vm)["vpmem"]["devices"].empty());
  CHECK_FALSE(vm.close());
}

TEST_CASE("VPMEM multi-mapping: a full device sends layers to the next one, a failed guest "
          "step frees the range",
          "[devices][vpmem][packed][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto opts = host.lcow("vpmem-packed-full");
  opts.vpmem_no_multi_mapping = false;
  opts.vpmem_size_bytes = 3 * 4096;
  auto vm = start_lcow(eng, opts);
  auto a = make_file(host, "a.vhd", 8192);
  auto b = make_file(host, "b.vhd", 8192);
  auto c = make_file(host, "c.vhd", 10);
  CHECK(*vm.add_vpmem(a) == "/run/layers/p0-0-8192");
  CHECK(*vm.add_vpmem(b) == "/run/layers/p1-0-8192");
  vm.guest_fail(1);
  REQUIRE_FALSE(vm.add_vpmem(c));
  CHECK_FALSE(oracle_of(eng, "vpmem-packed-full")["vpmem"]["0"].contains("Mappings"));
  CHECK(*vm.add_vpmem(c) == "/run/layers/p0-8192-4096");
  auto oracle = oracle_of(eng, "vpmem-packed-full")["vpmem"];
  CHECK(oracle["0"]["Mappings"]["8192"]["HostPath"] == c);
  CHECK(oracle["1"]["HostPath"] == b);
  CHECK_FALSE(vm.close());
}

TEST_CASE("VPMEM adds respect the VM's size and count limits and stat the file",
          "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto opts = host.lcow("vpmem-limits");
  opts.vpmem_device_count = 1;
  opts.vpmem_size_bytes = 4096;
  auto vm = start_lcow(eng, opts);
  CHECK(oracle_of(eng, "vpmem-limits")["vpmem_maximum_count"] == 1);

  auto big = make_file(host, "big.vhd", 4097);
  auto too_big = vm.add_vpmem(big);
  REQUIRE_FALSE(too_big);
  CHECK(too_big.err().code == uvm::errc::max_vpmem_layer_size);
  CHECK(too_big.err().text == "layer size is to large for VPMEM max size");

  auto missing = vm.add_vpmem(host.path("nope.vhd"));
  REQUIRE_FALSE(missing);
  CHECK(starts_with(missing.err().text, "stat " + host.path("nope.vhd") + ": "));
  CHECK(missing.err().text == "stat " + host.path("nope.vhd") + ": no such file or directory");

  // Exactly the maximum size fits; the one slot is then taken.
  auto fits = make_file(host, "fits.vhd", 4096);
  auto p = vm.add_vpmem(fits);
  REQUIRE(p);
  CHECK(*p == "/run/layers/p0");
  auto other = make_file(host, "other.vhd", 10);
  auto full = vm.add_vpmem(other);
  REQUIRE_FALSE(full);
  CHECK(full.err().code == uvm::errc::no_available_location);
  CHECK(full.err().text == "no available location");
  // A shared device needs no slot.
  CHECK(*vm.add_vpmem(fits) == "/run/layers/p0");
  CHECK(oracle_of(eng, "vpmem-limits")["vpmem"].size() == 1);
  CHECK_FALSE(vm.close());
}

TEST_CASE("VPMEM is not supported on WCOW", "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("vpmem-wcow"));
  auto f = make_file(host, "layer.vhd");
  auto r = vm.add_vpmem(f);
  REQUIRE_FALSE(r);
  CHECK(r.err().text == "not supported");
  CHECK(vm.remove_vpmem(f).text == "not supported");
  CHECK(oracle_of(eng, "vpmem-wcow")["vpmem"].empty());
  CHECK_FALSE(vm.close());
}

TEST_CASE("a VPMEM add whose guest step fails is rolled back on the host",
          "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("vpmem-guest-fail"));
  auto a = make_file(host, "a.vhd");
  vm.guest_fail(1);
  auto r = vm.add_vpmem(a);
  REQUIRE_FALSE(r);
  INFO(r.err().text);
  CHECK(starts_with(r.err().text,
                    "uvm::AddVPMEM: failed to modify utility VM configuration: guest modify:"));
  CHECK(r.err().text == "uvm::AddVPMEM: failed to modify utility VM configuration: guest modify: "
                        "guest RPC failure: injected guest fault");
  // The host add was undone before the caller heard of the failure.
  CHECK(oracle_of(eng, "vpmem-guest-fail")["vpmem"].empty());
  CHECK(view_of(vm)["vpmem"]["devices"].empty());
  CHECK_FALSE(guest_mounts(vm).contains("VPMemDevice /run/layers/p0"));
  // Nothing leaked: the next add gets slot 0.
  auto again = vm.add_vpmem(a);
  REQUIRE(again);
  CHECK(*again == "/run/layers/p0");
  CHECK(oracle_of(eng, "vpmem-guest-fail")["vpmem"]["0"]["HostPath"] == a);
  CHECK_FALSE(vm.close());
}

TEST_CASE("a VPMEM add whose host step fails records nothing", "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("vpmem-host-fail"));
  auto a = make_file(host, "a.vhd");
  eng.sim().fail_next(uvm::hcs::call_kind::modify, 1, "vpmem-host-fail");
  auto r = vm.add_vpmem(a);
  REQUIRE_FALSE(r);
  INFO(r.err().text);
  CHECK(starts_with(r.err().text, "uvm::AddVPMEM: failed to modify utility VM configuration: "
                                  "adding VM resources: hcsshim::System::Modify "
                                  "vpmem-host-fail: injected fault\n(extra info: {"));
  CHECK(oracle_of(eng, "vpmem-host-fail")["vpmem"].empty());
  CHECK(view_of(vm)["vpmem"]["devices"].empty());
  CHECK(guest_mounts(vm).empty());
  auto again = vm.add_vpmem(a);
  REQUIRE(again);
  CHECK(*again == "/run/layers/p0");
  CHECK_FALSE(vm.close());
}

TEST_CASE("a failed VPMEM removal leaves the device attached and usable",
          "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("vpmem-rm-fail"));
  auto a = make_file(host, "a.vhd");
  REQUIRE(vm.add_vpmem(a));
  const std::string prefix = "failed to remove VPMEM " + a + " from utility VM vpmem-rm-fail: ";

  SECTION("the guest refuses") {
    vm.guest_fail(1);
    auto e = vm.remove_vpmem(a);
    INFO(e.text);
    CHECK(e.text == prefix + "guest modify: guest RPC failure: injected guest fault");
  }
  SECTION("the host refuses: the guest gets the device back") {
    eng.sim().fail_next(uvm::hcs::call_kind::modify, 1, "vpmem-rm-fail");
    auto e = vm.remove_vpmem(a);
    INFO(e.text);
    CHECK(starts_with(e.text, prefix + "removing VM resources: hcsshim::System::Modify "
                                       "vpmem-rm-fail: injected fault"));
  }
  CHECK(oracle_of(eng, "vpmem-rm-fail")["vpmem"]["0"]["HostPath"] == a);
  CHECK(guest_mounts(vm).contains("VPMemDevice /run/layers/p0"));
  CHECK(view_of(vm)["vpmem"]["devices"]["0"]["refs"] == 1);
  REQUIRE_FALSE(vm.remove_vpmem(a));
  CHECK(oracle_of(eng, "vpmem-rm-fail")["vpmem"].empty());
  CHECK(guest_mounts(vm).empty());
  CHECK_FALSE(vm.close());
}

TEST_CASE("with VHD boot the root file system holds VPMEM device 0", "[devices][vpmem][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  make_file(host, "LinuxBootFiles/rootfs.vhd");
  auto opts = host.lcow("vpmem-vhd-boot");
  opts.root_fs_file = "rootfs.vhd";
  opts.preferred_root_fs_type = uvm::preferred_rootfs_type::vhd;
  auto vm = start_lcow(eng, opts);
  auto oracle = oracle_of(eng, "vpmem-vhd-boot");
  REQUIRE(oracle["vpmem"].contains("0"));
  CHECK(oracle["vpmem"]["0"]["HostPath"] == host.path("LinuxBootFiles/rootfs.vhd"));
  auto a = make_file(host, "a.vhd");
  auto p = vm.add_vpmem(a);
  REQUIRE(p);
  CHECK(*p == "/run/layers/p1");
  CHECK(oracle_of(eng, "vpmem-vhd-boot")["vpmem"]["1"]["HostPath"] == a);
  CHECK_FALSE(vm.close());
}

TEST_CASE("concurrent adds of one VPMEM file share a single attach", "[devices][vpmem]") {
  uvm::test::fixture f;
  auto vm = f.running("sharing");
  auto a = f.host.path("a.vhd");
  std::ofstream(a) << "vhd";
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  auto before = f.sim->calls_received(uvm::hcs::call_kind::modify);
  auto first = f.ask<std::string>(vm, uvm::add_vpmem_atom_v, a, std::string{});
  auto second = f.ask<std::string>(vm, uvm::add_vpmem_atom_v, a, std::string{});
  f.settle();
  CHECK_FALSE(first->has_value());
  CHECK_FALSE(second->has_value()); // nobody hears of the device before it is there
  // A remove meets a device nobody holds yet.
  auto early = f.ask<caf::ok_atom>(vm, uvm::remove_vpmem_atom_v, a, std::string{});
  f.settle();
  REQUIRE(early->has_value());
  CHECK((*early)->err().text == "not attached");
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(first->has_value());
  REQUIRE(second->has_value());
  REQUIRE(**first);
  REQUIRE(**second);
  CHECK(***first == "/run/layers/p0");
  CHECK(***second == "/run/layers/p0");
  CHECK(f.sim->calls_received(uvm::hcs::call_kind::modify) == before + 1);
  auto view = f.ask<std::string>(vm, uvm::view_atom_v);
  f.settle();
  CHECK(nlohmann::json::parse(***view)["vpmem"]["devices"]["0"]["refs"] == 2);
}

// ---- VSMB -----------------------------------------------------------------

TEST_CASE("VSMB directory shares are named s<n> and ref-counted", "[devices][vsmb][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("vsmb-dir"));
  auto dir = make_dir(host, "share");
  uvm::hcs::virtual_smb_share_options opts;
  opts.read_only = true;
  opts.cache_io = true;
  opts.share_read = true;

  auto s = vm.add_vsmb(dir, opts);
  REQUIRE(s);
  CHECK(s->name == "s1");
  CHECK(s->guest_path == vsmb_prefix + "s1");
  CHECK(s->guest_path == R"(\\?\VMSMB\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\s1)");
  CHECK(s->host_path == dir);
  auto oracle = oracle_of(eng, "vsmb-dir");
  REQUIRE(oracle["vsmb"].contains("s1"));
  CHECK(oracle["vsmb"]["s1"]["Path"] == dir);
  CHECK(oracle["vsmb"]["s1"]["Options"]["ReadOnly"] == true);
  auto path = vm.get_vsmb_uvm_path(dir);
  REQUIRE(path);
  CHECK(*path == vsmb_prefix + "s1");

  auto again = vm.add_vsmb(dir, opts);
  REQUIRE(again);
  CHECK(again->name == "s1");
  CHECK(again->guest_path == s->guest_path);
  CHECK(view_of(vm)["shares"]["vsmb"]["s1"]["refs"] == 2);

  REQUIRE_FALSE(vm.remove_vsmb(dir));
  CHECK(oracle_of(eng, "vsmb-dir")["vsmb"].contains("s1"));
  CHECK(view_of(vm)["shares"]["vsmb"]["s1"]["refs"] == 1);
  REQUIRE_FALSE(vm.remove_vsmb(dir));
  CHECK_FALSE(oracle_of(eng, "vsmb-dir")["vsmb"].contains("s1"));
  CHECK_FALSE(view_of(vm)["shares"]["vsmb"].contains("s1"));
  CHECK(vm.get_vsmb_uvm_path(dir).err().text == "not attached");
  auto third = vm.remove_vsmb(dir);
  CHECK(third.text == dir + " is not present as a VSMB share in vsmb-dir, cannot remove");

  // The counter moves on: a new share of the same directory is s2.
  auto fresh = vm.add_vsmb(dir, opts);
  REQUIRE(fresh);
  CHECK(fresh->name == "s2");
  CHECK_FALSE(vm.close());
}

TEST_CASE("a VSMB file share maps the file under its directory's share",
          "[devices][vsmb][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("vsmb-file"));
  auto file = make_file(host, "files/config.json");
  auto dir = host.path("files");
  uvm::hcs::virtual_smb_share_options opts;
  opts.read_only = true;

  auto s = vm.add_vsmb(file, opts);
  REQUIRE(s);
  CHECK(s->name == "s1");
  CHECK(s->host_path == file);
  auto share = oracle_of(eng, "vsmb-file")["vsmb"]["s1"];
  CHECK(share["Path"] == dir);
  CHECK(share["Options"]["RestrictFileAccess"] == true);
  CHECK(share["Options"]["SingleFileMapping"] == true);
  CHECK(share["AllowedFiles"] == nlohmann::json::array({file}));

  auto path = vm.get_vsmb_uvm_path(file);
  REQUIRE(path);
  CHECK(*path == vsmb_prefix + "s1" + R"(\config.json)");
  // The directory itself is not shared (file shares are a separate table).
  CHECK(vm.get_vsmb_uvm_path(dir).err().text == "not attached");
  CHECK(vm.remove_vsmb(dir).text == dir + " is not present as a VSMB share in vsmb-file, "
                                          "cannot remove");

  REQUIRE_FALSE(vm.remove_vsmb(file));
  CHECK(oracle_of(eng, "vsmb-file")["vsmb"].count("s1") == 0);
  CHECK_FALSE(vm.close());
}

TEST_CASE("files of one directory share one VSMB share, updated per file",
          "[devices][vsmb][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("vsmb-files"));
  auto f1 = make_file(host, "files/one.txt");
  auto f2 = make_file(host, "files/two.txt");
  auto s1 = vm.add_vsmb(f1, {});
  REQUIRE(s1);
  auto s2 = vm.add_vsmb(f2, {});
  REQUIRE(s2);
  CHECK(s1->name == "s1");
  CHECK(s2->name == "s1");
  auto share = oracle_of(eng, "vsmb-files")["vsmb"]["s1"];
  CHECK(share["AllowedFiles"] == nlohmann::json::array({f1, f2}));
  CHECK(*vm.get_vsmb_uvm_path(f2) == vsmb_prefix + R"(s1\two.txt)");
  CHECK(view_of(vm)["shares"]["vsmb"]["s1"]["refs"] == 2);
  REQUIRE_FALSE(vm.remove_vsmb(f1));
  CHECK(oracle_of(eng, "vsmb-files")["vsmb"].contains("s1"));
  REQUIRE_FALSE(vm.remove_vsmb(f2));
  CHECK_FALSE(oracle_of(eng, "vsmb-files")["vsmb"].contains("s1"));
  CHECK_FALSE(vm.close());
}

TEST_CASE("VSMB share names count in hex and paths are compared cleaned",
          "[devices][vsmb][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("vsmb-names"));
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) {
    auto dir = make_dir(host, "d" + std::to_string(i));
    auto s = vm.add_vsmb(dir, {});
    REQUIRE(s);
    names.push_back(s->name);
  }
  CHECK(names ==
        std::vector<std::string>{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "sa"});
  auto dir = host.path("d0");
  auto same = vm.add_vsmb(dir + "/./", {});
  REQUIRE(same);
  CHECK(same->name == "s1");
  CHECK(*vm.get_vsmb_uvm_path(dir + "//") == vsmb_prefix + "s1");
  REQUIRE_FALSE(vm.remove_vsmb(dir + "/"));
  REQUIRE_FALSE(vm.remove_vsmb(dir));
  CHECK_FALSE(oracle_of(eng, "vsmb-names")["vsmb"].contains("s1"));
  CHECK(oracle_of(eng, "vsmb-names")["vsmb"].contains("sa"));
  CHECK_FALSE(vm.close());
}

TEST_CASE("VSMB errors: an unshared directory, a missing path, LCOW", "[devices][vsmb][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto dir = make_dir(host, "unshared");
  {
    auto vm = start_wcow(eng, host.wcow("vsmb-errors"));
    auto e = vm.remove_vsmb(dir);
    CHECK(e.text == dir + " is not present as a VSMB share in vsmb-errors, cannot remove");
    auto missing = vm.add_vsmb(host.path("missing"), {});
    REQUIRE_FALSE(missing);
    CHECK(starts_with(missing.err().text, "stat " + host.path("missing") + ": "));
    CHECK(vm.get_vsmb_uvm_path("").err().text == "no hostPath passed to GetVSMBUvmPath");
    CHECK_FALSE(vm.close());
  }
  auto lcow = start_lcow(eng, host.lcow("vsmb-lcow"));
  auto r = lcow.add_vsmb(dir, {});
  REQUIRE_FALSE(r);
  CHECK(r.err().code == uvm::errc::not_supported);
  CHECK(r.err().text == "not supported");
  CHECK(lcow.remove_vsmb(dir).text == "not supported");
  CHECK(lcow.get_vsmb_uvm_path(dir).err().text == "not supported");
  CHECK(oracle_of(eng, "vsmb-lcow")["vsmb"].empty());
  CHECK_FALSE(lcow.close());
}

// ---- Plan9 ----------------------------------------------------------------

TEST_CASE("Plan9 shares are ref-counted per identical share", "[devices][plan9][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("plan9"));
  auto dir = make_dir(host, "src");

  auto s = vm.add_plan9(dir, "/run/mounts/a", true, false, {});
  REQUIRE(s);
  CHECK(s->name == "0");
  CHECK(s->host_path == dir);
  CHECK(s->uvm_path == "/run/mounts/a");
  auto oracle = oracle_of(eng, "plan9");
  REQUIRE(oracle["plan9"].size() == 1);
  CHECK(oracle["plan9"]["0"]["Path"] == dir);
  CHECK(oracle["plan9"]["0"]["AccessName"] == "0");
  CHECK(oracle["plan9"]["0"]["Port"] == 564);
  CHECK(oracle["plan9"]["0"]["Flags"] == 5); // LinuxMetadata | ReadOnly
  auto mounts = guest_mounts(vm);
  REQUIRE(mounts.contains("MappedDirectory /run/mounts/a"));
  CHECK(mounts["MappedDirectory /run/mounts/a"]["ShareName"] == "0");

  // The identical share again: the same name, still one HCS share.
  auto same = vm.add_plan9(dir, "/run/mounts/a", true, false, {});
  REQUIRE(same);
  CHECK(same->name == "0");
  CHECK(oracle_of(eng, "plan9")["plan9"].size() == 1);

  // Another guest path is another share.
  auto other = vm.add_plan9(dir, "/run/mounts/b", true, false, {});
  REQUIRE(other);
  CHECK(other->name == "1");
  oracle = oracle_of(eng, "plan9");
  CHECK(oracle["plan9"].size() == 2);
  CHECK(oracle["plan9"]["1"]["Path"] == dir);
  CHECK(guest_mounts(vm).contains("MappedDirectory /run/mounts/b"));

  REQUIRE_FALSE(vm.remove_plan9(*s));
  CHECK(oracle_of(eng, "plan9")["plan9"].contains("0"));
  CHECK(guest_mounts(vm).contains("MappedDirectory /run/mounts/a"));
  REQUIRE_FALSE(vm.remove_plan9(*same));
  CHECK_FALSE(oracle_of(eng, "plan9")["plan9"].contains("0"));
  CHECK_FALSE(guest_mounts(vm).contains("MappedDirectory /run/mounts/a"));
  auto gone = vm.remove_plan9(*s);
  CHECK(gone.code == uvm::errc::not_attached);
  CHECK(gone.text == "not attached");

  REQUIRE_FALSE(vm.remove_plan9(*other));
  CHECK(oracle_of(eng, "plan9")["plan9"].empty());
  CHECK(guest_mounts(vm).empty());
  CHECK_FALSE(vm.close());
}

TEST_CASE("Plan9 options make different shares", "[devices][plan9][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("plan9-opts"));
  auto dir = make_dir(host, "src");
  auto restricted = vm.add_plan9(dir, "/run/mounts/f", true, true, {"a.txt"});
  REQUIRE(restricted);
  CHECK(restricted->name == "0");
  auto share = oracle_of(eng, "plan9-opts")["plan9"]["0"];
  CHECK(share["Flags"] == 0x85); // LinuxMetadata | ReadOnly | RestrictFileAccess
  CHECK(share["AllowedFiles"] == nlohmann::json::array({"a.txt"}));
  // Same host and guest path, different options: not the same share. (The
  // guest refuses a second mount at one path.)
  auto writable = vm.add_plan9(dir, "/run/mounts/f", false, true, {"a.txt"});
  REQUIRE_FALSE(writable);
  CHECK(writable.err().text.find("guest modify") != std::string::npos);
  CHECK(oracle_of(eng, "plan9-opts")["plan9"].size() == 1);
  auto other_files = vm.add_plan9(dir, "/run/mounts/g", true, true, {"b.txt"});
  REQUIRE(other_files);
  CHECK(other_files->name == "2"); // the failed add consumed "1"
  CHECK(oracle_of(eng, "plan9-opts")["plan9"]["2"]["AllowedFiles"] ==
        nlohmann::json::array({"b.txt"}));
  CHECK_FALSE(vm.close());
}

TEST_CASE("Plan9 errors: no guest path, unknown share, WCOW", "[devices][plan9][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto dir = make_dir(host, "src");
  auto vm = start_lcow(eng, host.lcow("plan9-errors"));
  auto no_path = vm.add_plan9(dir, "", false, false, {});
  REQUIRE_FALSE(no_path);
  CHECK(no_path.err().text == "uvmPath must be passed to AddPlan9");
  auto unknown = vm.remove_plan9(uvm::plan9_share_handle{"42", dir, "/x"});
  CHECK(unknown.text == "not attached");
  CHECK(oracle_of(eng, "plan9-errors")["plan9"].empty());
  // The refused add consumed no name.
  auto first = vm.add_plan9(dir, "/run/mounts/a", false, false, {});
  REQUIRE(first);
  CHECK(first->name == "0");
  CHECK(oracle_of(eng, "plan9-errors")["plan9"]["0"]["Flags"] == 4);
  CHECK_FALSE(vm.close());

  auto wcow = start_wcow(eng, host.wcow("plan9-wcow"));
  auto r = wcow.add_plan9(dir, "/run/mounts/a", false, false, {});
  REQUIRE_FALSE(r);
  CHECK(r.err().text == "not supported");
  CHECK(wcow.remove_plan9(uvm::plan9_share_handle{"0", dir, "/run/mounts/a"}).text ==
        "not supported");
  CHECK_FALSE(wcow.close());
}

// ---- Named pipes ----------------------------------------------------------

TEST_CASE("named pipes are mapped and unmapped", "[devices][pipes][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("pipes"));
  const std::string pipe = R"(\\.\pipe\docker_engine)";
  auto mount = vm.add_pipe(pipe);
  REQUIRE(mount);
  CHECK(mount->host_path == pipe);
  auto pipes = oracle_of(eng, "pipes")["mapped_pipes"];
  CHECK(pipes == nlohmann::json::array({pipe}));
  CHECK(view_of(vm)["shares"]["pipes"] == nlohmann::json::array({pipe}));
  REQUIRE_FALSE(vm.remove_pipe(pipe));
  CHECK(oracle_of(eng, "pipes")["mapped_pipes"].empty());
  CHECK(view_of(vm)["shares"]["pipes"].empty());
  // Removing it again is HCS's error, and the engine forwards it.
  auto again = vm.remove_pipe(pipe);
  CHECK(again.code == uvm::errc::hcs_failure);
  CHECK(starts_with(again.text, "hcsshim::System::Modify pipes: "));
  CHECK_FALSE(vm.close());
}

// ---- Network --------------------------------------------------------------

TEST_CASE("network namespaces carry one NIC per endpoint", "[devices][network][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("net"));
  CHECK(oracle_of(eng, "net")["network_adapters"].empty());

  REQUIRE_FALSE(vm.add_net_ns("ns1"));
  auto dup = vm.add_net_ns("ns1");
  CHECK(dup.code == uvm::errc::netns_already_attached);
  CHECK(dup.text == "network namespace already added");

  auto ep1 = endpoint("ep-1", "00-15-5D-00-00-01", "ns1");
  auto ep2 = endpoint("ep-2", "00-15-5D-00-00-02", "ns1");
  auto unknown = vm.add_endpoints_to_ns("ns-nope", {ep1});
  CHECK(unknown.code == uvm::errc::netns_not_found);
  CHECK(unknown.text == "network namespace not found");
  CHECK(vm.remove_endpoints_from_ns("ns-nope", {ep1}).text == "network namespace not found");
  CHECK(oracle_of(eng, "net")["network_adapters"].empty());

  // A duplicate endpoint id is added once.
  REQUIRE_FALSE(vm.add_endpoints_to_ns("ns1", {ep1, ep2, ep1}));
  auto adapters = oracle_of(eng, "net")["network_adapters"];
  REQUIRE(adapters.size() == 2);
  CHECK(adapter_endpoints(oracle_of(eng, "net")) == std::multiset<std::string>{"ep-1", "ep-2"});
  auto table = view_of(vm)["network"]["ns1"];
  REQUIRE(table.size() == 2);
  for (const auto& [ep, mac] :
       {std::pair{"ep-1", "00-15-5D-00-00-01"}, std::pair{"ep-2", "00-15-5D-00-00-02"}}) {
    INFO(ep);
    std::string nic = table[ep]["nic_id"];
    CHECK(is_guid(nic));
    REQUIRE(adapters.contains(nic));
    CHECK(adapters[nic]["EndpointId"] == ep);
    CHECK(adapters[nic]["MacAddress"] == mac);
    // The guest brought the adapter into the namespace.
    auto mounts = guest_mounts(vm);
    REQUIRE(mounts.contains("Network " + nic));
    CHECK(mounts["Network " + nic]["NamespaceID"] == "ns1");
  }
  // Adding known endpoints again adds nothing.
  REQUIRE_FALSE(vm.add_endpoints_to_ns("ns1", {ep2}));
  CHECK(oracle_of(eng, "net")["network_adapters"].size() == 2);

  REQUIRE_FALSE(vm.remove_endpoints_from_ns("ns1", {ep1}));
  CHECK(adapter_endpoints(oracle_of(eng, "net")) == std::multiset<std::string>{"ep-2"});
  CHECK_FALSE(view_of(vm)["network"]["ns1"].contains("ep-1"));
  // An endpoint the namespace does not hold is ignored.
  REQUIRE_FALSE(vm.remove_endpoints_from_ns("ns1", {ep1}));

  REQUIRE_FALSE(vm.remove_net_ns("ns1"));
  CHECK(oracle_of(eng, "net")["network_adapters"].empty());
  CHECK_FALSE(view_of(vm)["network"].contains("ns1"));
  CHECK_FALSE(vm.remove_net_ns("ns1"));
  CHECK_FALSE(vm.remove_net_ns("never-added"));
  // The namespace can come back.
  REQUIRE_FALSE(vm.add_net_ns("ns1"));
  REQUIRE_FALSE(vm.add_endpoints_to_ns("ns1", {ep1}));
  CHECK(adapter_endpoints(oracle_of(eng, "net")) == std::multiset<std::string>{"ep-1"});
  CHECK_FALSE(vm.close());
}

TEST_CASE("a failed endpoint add keeps the NICs added before it", "[devices][network]") {
  uvm::test::fixture f;
  auto vm = f.running("net-fail");
  auto ok = f.ask<caf::ok_atom>(vm, uvm::add_netns_atom_v, std::string{"ns1"}, std::string{});
  f.settle();
  REQUIRE(**ok);
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  std::vector<uvm::hcs::network_endpoint> eps{endpoint("ep-1", "00-01", "ns1"),
                                              endpoint("ep-2", "00-02", "ns1")};
  auto add =
      f.ask<caf::ok_atom>(vm, uvm::add_endpoints_atom_v, std::string{"ns1"}, eps, std::string{});
  f.settle();
  // The first NIC is in flight; the second one's HCS call will fail.
  f.sim->fail_next(uvm::hcs::call_kind::modify, 1, "net-fail");
  f.clock->advance(10ms);
  f.settle();
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(add->has_value());
  REQUIRE_FALSE(**add);
  CHECK((*add)->err().text.find("injected fault") != std::string::npos);
  CHECK(adapter_endpoints(f.sim->oracle()["net-fail"]) == std::multiset<std::string>{"ep-1"});
  auto view = f.ask<std::string>(vm, uvm::view_atom_v);
  f.settle();
  auto table = nlohmann::json::parse(***view)["network"]["ns1"];
  CHECK(table.size() == 1);
  CHECK(table.contains("ep-1"));
  // Adding both again adds only the one that is missing.
  auto retry =
      f.ask<caf::ok_atom>(vm, uvm::add_endpoints_atom_v, std::string{"ns1"}, eps, std::string{});
  f.settle();
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(retry->has_value());
  REQUIRE(**retry);
  CHECK(adapter_endpoints(f.sim->oracle()["net-fail"]) ==
        std::multiset<std::string>{"ep-1", "ep-2"});
  // Removing the namespace removes both NICs.
  auto gone = f.ask<caf::ok_atom>(vm, uvm::remove_netns_atom_v, std::string{"ns1"}, std::string{});
  f.settle();
  f.clock->advance(10ms);
  f.settle();
  f.clock->advance(10ms);
  f.settle();
  REQUIRE(gone->has_value());
  REQUIRE(**gone);
  CHECK(f.sim->oracle()["net-fail"]["network_adapters"].empty());
}

TEST_CASE("WCOW network endpoints are added and removed through HCS",
          "[devices][network][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_wcow(eng, host.wcow("net-wcow"));
  REQUIRE_FALSE(vm.add_net_ns("ns1"));
  CHECK(vm.add_net_ns("ns1").text == "network namespace already added");
  auto ep1 = endpoint("ep-1", "00-15-5D-00-00-01", "ns1");
  auto ep2 = endpoint("ep-2", "00-15-5D-00-00-02", "ns1");
  REQUIRE_FALSE(vm.add_endpoints_to_ns("ns1", {ep1, ep2}));
  CHECK(adapter_endpoints(oracle_of(eng, "net-wcow")) ==
        std::multiset<std::string>{"ep-1", "ep-2"});
  REQUIRE_FALSE(vm.remove_endpoints_from_ns("ns1", {ep2}));
  CHECK(adapter_endpoints(oracle_of(eng, "net-wcow")) == std::multiset<std::string>{"ep-1"});
  REQUIRE_FALSE(vm.remove_net_ns("ns1"));
  CHECK(oracle_of(eng, "net-wcow")["network_adapters"].empty());
  CHECK_FALSE(vm.close());
}

// ---- VPCI -----------------------------------------------------------------

TEST_CASE("an assigned VPCI device is in HCS until it is removed", "[devices][vpci][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("vpci"));
  auto device = vm.assign_device(gpu());
  REQUIRE(device);
  const std::string id = device->id;
  CHECK(is_guid(id));
  auto vpci = oracle_of(eng, "vpci")["vpci"];
  REQUIRE(vpci.contains(id));
  CHECK(vpci[id]["Functions"][0]["DeviceInstancePath"] == gpu().functions[0].device_instance_path);
  CHECK(view_of(vm)["vpci"].contains(id));
  CHECK(guest_mounts(vm).contains("VPCIDevice " + id));

  // No ref-counting: a second assignment is a second device.
  auto second = vm.assign_device(gpu());
  REQUIRE(second);
  CHECK(second->id != id);
  CHECK(oracle_of(eng, "vpci")["vpci"].size() == 2);

  REQUIRE_FALSE(vm.remove_device(id));
  vpci = oracle_of(eng, "vpci")["vpci"];
  CHECK_FALSE(vpci.contains(id));
  CHECK(vpci.contains(second->id));
  CHECK_FALSE(view_of(vm)["vpci"].contains(id));
  // An unknown id goes to HCS, whose refusal is the answer.
  auto again = vm.remove_device(id);
  CHECK(again.code == uvm::errc::hcs_failure);
  CHECK(starts_with(again.text, "hcsshim::System::Modify vpci: "));
  REQUIRE_FALSE(vm.remove_device(second->id));
  CHECK(oracle_of(eng, "vpci")["vpci"].empty());
  CHECK(view_of(vm)["vpci"].empty());
  CHECK_FALSE(vm.close());
}

// ---- Combined layers ------------------------------------------------------

TEST_CASE("combined layers on LCOW, and the wrong OS's form", "[devices][layers][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("layers"));
  const std::string root = "/run/gcs/c/c1/rootfs";
  const std::vector<std::string> layers{"/run/layers/p0", "/run/layers/p1"};
  REQUIRE_FALSE(vm.combine_layers_lcow(layers, "/run/gcs/c/c1/scratch", root));
  auto combined = view_of(vm)["combined_layers"];
  REQUIRE(combined.contains(root));
  CHECK(combined[root]["layers"] == nlohmann::json(layers));
  CHECK(combined[root]["scratch"] == "/run/gcs/c/c1/scratch");
  auto mounts = guest_mounts(vm);
  REQUIRE(mounts.contains("CombinedLayers " + root));
  CHECK(mounts["CombinedLayers " + root]["ScratchPath"] == "/run/gcs/c/c1/scratch");

  uvm::hcs::layer l;
  l.id = "8d1b5c55-6c09-4e4b-a5b9-9e4b9c0c1e11";
  l.path = R"(C:\layers\l1)";
  auto wrong = vm.combine_layers_wcow({l}, R"(C:\c\1)");
  CHECK(wrong.code == uvm::errc::not_supported);
  CHECK(wrong.text == "not supported");

  REQUIRE_FALSE(vm.remove_combined_layers(root));
  CHECK(view_of(vm)["combined_layers"].empty());
  CHECK_FALSE(guest_mounts(vm).contains("CombinedLayers " + root));
  CHECK_FALSE(vm.close());

  auto wcow = start_wcow(eng, host.wcow("layers-wcow"));
  CHECK(wcow.combine_layers_lcow(layers, "", root).text == "not supported");
  REQUIRE_FALSE(wcow.combine_layers_wcow({l}, R"(C:\c\1)"));
  CHECK(view_of(wcow)["combined_layers"].contains(R"(C:\c\1)"));
  REQUIRE_FALSE(wcow.remove_combined_layers(R"(C:\c\1)"));
  CHECK(view_of(wcow)["combined_layers"].empty());
  CHECK_FALSE(wcow.close());
}

// ---- Exits ----------------------------------------------------------------

TEST_CASE("device calls in flight fail with the exit error when the VM exits",
          "[devices][exit][engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = start_lcow(eng, host.lcow("doomed"));
  auto a = make_file(host, "a.vhd");
  auto b = make_file(host, "b.vhd");
  auto dir = make_dir(host, "src");
  REQUIRE(vm.add_vpmem(b));
  REQUIRE_FALSE(vm.add_net_ns("ns1"));
  auto before = eng.sim().calls_received(uvm::hcs::call_kind::modify);
  // Every HCS modify now takes 2 s: long after the crash below.
  eng.sim().set_latency(uvm::hcs::call_kind::modify, 2s, 2s);

  std::mutex m;
  std::vector<std::pair<std::string, uvm::error>> outcomes;
  auto record = [&](const char* what, uvm::error e) {
    std::lock_guard<std::mutex> lock{m};
    outcomes.emplace_back(what, std::move(e));
  };
  auto err_of = [](auto r) { return r ? uvm::error{} : r.err(); };
  std::vector<std::thread> threads;
  threads.emplace_back([&] { record("add_vpmem", err_of(vm.add_vpmem(a))); });
  threads.emplace_back([&] { record("remove_vpmem", vm.remove_vpmem(b)); });
  threads.emplace_back(
      [&] { record("add_plan9", err_of(vm.add_plan9(dir, "/run/mounts/m", false, false, {}))); });
  threads.emplace_back([&] { record("add_pipe", err_of(vm.add_pipe(R"(\\.\pipe\p)"))); });
  threads.emplace_back([&] { record("assign_device", err_of(vm.assign_device(gpu()))); });
  threads.emplace_back([&] {
    record("add_endpoints", vm.add_endpoints_to_ns("ns1", {endpoint("ep", "00-11", "ns1")}));
  });
  // Six HCS modifies are in flight once every call has reached HCS.
  auto deadline = std::chrono::steady_clock::now() + 1500ms;
  while (eng.sim().calls_received(uvm::hcs::call_kind::modify) < before + 6 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(eng.sim().calls_received(uvm::hcs::call_kind::modify) == before + 6);
  // A second adder of the same file joins the attach in flight.
  threads.emplace_back([&] { record("add_vpmem (waiter)", err_of(vm.add_vpmem(a))); });
  std::this_thread::sleep_for(20ms);
  CHECK(eng.sim().calls_received(uvm::hcs::call_kind::modify) == before + 6);

  auto crash_at = std::chrono::steady_clock::now();
  eng.sim().crash("doomed");
  for (auto& t : threads) {
    t.join();
  }
  auto took = std::chrono::steady_clock::now() - crash_at;
  CHECK(took < 1s); // well before the 2 s modifies would have completed
  const std::string exit_text =
      "utility VM doomed exited unexpectedly: hcsshim::System::waitBackground doomed: The "
      "virtual machine or container exited unexpectedly.";
  REQUIRE(outcomes.size() == 7);
  for (const auto& [what, e] : outcomes) {
    INFO(what << ": " << e.text);
    CHECK(e.code == uvm::errc::vm_exited);
    CHECK(e.text == exit_text);
  }
  // Later calls fail at once with the same error.
  auto late = vm.add_vpmem(a);
  CHECK(late.err().code == uvm::errc::vm_exited);
  CHECK(vm.add_vsmb(dir, {}).err().code == uvm::errc::vm_exited);
  CHECK(vm.remove_plan9(uvm::plan9_share_handle{"0", dir, "/run/mounts/m"}).code ==
        uvm::errc::vm_exited);
  CHECK(vm.combine_layers_lcow({"/run/layers/p0"}, "", "/r").code == uvm::errc::vm_exited);
  CHECK_FALSE(vm.close());
}

TEST_CASE("an exit during a VPMEM rollback fails the adder and its waiter",
          "[devices][exit][vpmem]") {
  uvm::test::fixture f;
  auto vm = f.running("rolling");
  auto a = f.host.path("a.vhd");
  std::ofstream(a) << "vhd";
  f.sim->set_latency(uvm::hcs::call_kind::modify, 10ms, 10ms);
  caf::anon_send(vm, uvm::guest_fail_atom_v, uint32_t{1});
  auto first = f.ask<std::string>(vm, uvm::add_vpmem_atom_v, a, std::string{});
  auto waiter = f.ask<std::string>(vm, uvm::add_vpmem_atom_v, a, std::string{});
  f.settle();
  CHECK(f.sim->oracle()["rolling"]["vpmem"].empty());
  // The host add lands, the guest refuses, and the undo is sent.
  f.clock->advance(10ms);
  f.settle();
  CHECK(f.sim->oracle()["rolling"]["vpmem"].size() == 1);
  CHECK_FALSE(first->has_value());
  CHECK_FALSE(waiter->has_value());
  f.sim->crash("rolling");
  f.settle();
  REQUIRE(first->has_value());
  REQUIRE(waiter->has_value());
  CHECK((*first)->err().code == uvm::errc::vm_exited);
  CHECK((*waiter)->err().code == uvm::errc::vm_exited);
  // The undo that was in flight completes into nothing.
  f.clock->advance(10ms);
  f.settle_all();
  auto late = f.ask<std::string>(vm, uvm::add_vpmem_atom_v, a, std::string{});
  f.settle();
  REQUIRE(late->has_value());
  CHECK((*late)->err().code == uvm::errc::vm_exited);
}
