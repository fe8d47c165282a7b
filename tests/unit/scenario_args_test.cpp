// The arguments of scenario ops: every integer checked against the type it
// is stored in, wrong JSON types and unknown enumeration values as errors
// naming the argument.
#include "tools/uvmctl/scenario_args.hpp"

#include <string>

#include <catch2/catch.hpp>

using nlohmann::json;
using namespace uvm;
using namespace uvm::cli;

namespace {

template <class T>
std::string error_of(const result<T>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::bad_request);
  return r.err().text;
}

} // namespace

TEST_CASE("field_reader checks each integer type at both ends", "[scenario_args]") {
  auto j = json::parse(R"({"u8":255,"u8x":256,"u16":65535,"u16x":65536,"i32":-2147483648,
    "i32x":-2147483649,"u32":4294967295,"u32x":4294967296,"u64":18446744073709551615,
    "i64":-9223372036854775808,"neg":-1})");
  field_reader r{j};
  CHECK(r.integer<uint8_t>("u8", 0) == 255);
  CHECK(r.integer<uint16_t>("u16", 0) == 65535);
  CHECK(r.integer<int32_t>("i32", 0) == INT32_MIN);
  CHECK(r.integer<uint32_t>("u32", 0) == UINT32_MAX);
  CHECK(r.integer<uint64_t>("u64", 0) == UINT64_MAX);
  CHECK(r.integer<int64_t>("i64", 0) == INT64_MIN);
  CHECK(r.integer<int32_t>("absent", 7) == 7);
  CHECK_FALSE(r.err());

  const std::pair<std::function<void(field_reader&)>, std::string> cases[] = {
      {[](field_reader& f) { f.integer<uint8_t>("u8x", 0); },
       "\"u8x\" must be an integer in 0..255 (uint8), got 256"},
      {[](field_reader& f) { f.integer<uint16_t>("u16x", 0); },
       "\"u16x\" must be an integer in 0..65535 (uint16), got 65536"},
      {[](field_reader& f) { f.integer<int32_t>("i32x", 0); },
       "\"i32x\" must be an integer in -2147483648..2147483647 (int32), got -2147483649"},
      {[](field_reader& f) { f.integer<uint32_t>("u32x", 0); },
       "\"u32x\" must be an integer in 0..4294967295 (uint32), got 4294967296"},
      {[](field_reader& f) { f.integer<uint64_t>("neg", 0); },
       "\"neg\" must be an integer in 0..18446744073709551615 (uint64), got -1"},
      {[](field_reader& f) { f.integer<int32_t>("u64", 0); },
       "\"u64\" must be an integer in -2147483648..2147483647 (int32), got "
       "18446744073709551615"},
  };
  for (const auto& [read, text] : cases) {
    field_reader f{j};
    read(f);
    CHECK(f.err().text == text);
  }
}

TEST_CASE("field_reader keeps the first error and unknown members count", "[scenario_args]") {
  auto j = json::parse(R"({"a":"x","b":1,"c":true})");
  field_reader r{j, "thing field ", '\''};
  CHECK(r.integer<int32_t>("a", 4) == 4);
  CHECK(r.text("b", "fallback") == "fallback");
  CHECK(r.err().text == "thing field 'a' must be an integer in -2147483648..2147483647 (int32), "
                        "got \"x\"");
  field_reader unknown{j, "thing field ", '\''};
  unknown.text("a");
  unknown.integer<int32_t>("b", 0);
  unknown.reject_unknown();
  CHECK(unknown.err().text == "unknown thing field 'c'");
}

TEST_CASE("describe_json stays short and valid UTF-8", "[scenario_args]") {
  CHECK(describe_json(json("short")) == "\"short\"");
  CHECK(describe_json(json(std::string(41, 'a'))) == "a string of 41 bytes");
  CHECK(describe_json(json(std::string("\xff\xfe"))) == "\"\xef\xbf\xbd\xef\xbf\xbd\"");
  CHECK(describe_json(json::array()) == "an array");
  CHECK(describe_json(json(nullptr)) == "null");
}

TEST_CASE("durations are milliseconds within a day", "[scenario_args]") {
  auto j = json::parse(R"({"ms":86400000,"neg":-1,"big":86400001,"huge":9223372036854775807})");
  field_reader r{j};
  CHECK(duration_ms(r, "ms", std::chrono::milliseconds{0}).count() == 86400000);
  for (const char* name : {"neg", "big", "huge"}) {
    field_reader f{j};
    duration_ms(f, name, std::chrono::milliseconds{0});
    CHECK(f.err().text.rfind(std::string{"\""} + name +
                                 "\" must be an integer in 0..86400000 (milliseconds), got ",
                             0) == 0);
  }
}

TEST_CASE("simulator controls check their counts, delays and calls", "[scenario_args]") {
  auto fail = sim_fail_of(json::parse(R"({"call":"start","count":4294967295})"));
  REQUIRE(fail);
  CHECK(fail->count == UINT32_MAX);
  CHECK(error_of(sim_fail_of(json::parse(R"({"call":"start","count":-1})"))) ==
        "\"count\" must be an integer in 0..4294967295 (uint32), got -1");
  CHECK(error_of(sim_fail_of(json::parse(R"({"call":"boot"})"))) ==
        "unknown call 'boot' (create, start, modify, shutdown, terminate, properties)");
  CHECK(error_of(sim_fail_of(json::parse(R"({"call":3})"))) == "\"call\" must be a string, got 3");
  CHECK(error_of(sim_fail_of(json::parse(R"({"call":"start","probability":1.5})"))) ==
        "\"probability\" must be a number in 0..1, got 1.5");
  auto p = sim_fail_of(json::parse(R"({"call":"modify","probability":0.25})"));
  REQUIRE(p);
  CHECK(p->by_probability);
  CHECK(p->probability == 0.25);

  auto crash = sim_crash_of(json::parse(R"({"after_calls":4294967295})"));
  REQUIRE(crash);
  CHECK(crash->when == sim_crash_args::when::after_calls);
  CHECK(crash->calls == UINT32_MAX);
  CHECK(error_of(sim_crash_of(json::parse(R"({"after_calls":4294967296})"))) ==
        "\"after_calls\" must be an integer in 0..4294967295 (uint32), got 4294967296");
  CHECK(error_of(sim_crash_of(json::parse(R"({"after_ms":"soon"})"))) ==
        "\"after_ms\" must be an integer in 0..86400000 (milliseconds), got \"soon\"");

  auto latency = latency_of(json::parse(R"({"call":"start","min_ms":5,"max_ms":9})"));
  REQUIRE(latency);
  CHECK(latency->min.count() == 5);
  CHECK(latency->max.count() == 9);
  CHECK(error_of(latency_of(json::parse(R"({"call":"start","min_ms":9,"max_ms":5})"))) ==
        "sim_latency needs 0 <= min_ms <= max_ms");
  CHECK(error_of(latency_of(json::parse(R"({"call":"start","ms":9223372036854775807})")))
            .rfind("\"ms\" must be an integer in 0..86400000", 0) == 0);
}

TEST_CASE("vm_access takes 0..2 or its names", "[scenario_args]") {
  CHECK(*vm_access_of(json::parse(R"({})")) == vm_access_type::noop);
  CHECK(*vm_access_of(json::parse(R"({"vm_access":2})")) == vm_access_type::individual);
  CHECK(*vm_access_of(json::parse(R"({"vm_access":"group"})")) == vm_access_type::group);
  for (const char* bad : {"3", "-1", "4294967297", "1.0", "\"everyone\"", "true"}) {
    INFO(bad);
    CHECK(error_of(vm_access_of(json::parse(std::string{R"({"vm_access":)"} + bad + "}")))
              .rfind("vm_access must be 0/1/2 or \"noop\"/\"group\"/\"individual\", got ", 0) == 0);
  }
}

TEST_CASE("HNS endpoints check their integer and string fields", "[scenario_args]") {
  auto ok = endpoints_of(json::parse(
      R"({"endpoints":["e0",{"ID":"e1","PrefixLength":255,"EncapOverhead":65535,
          "Namespace":{"ID":"ns"},"EnableLowMetric":true}]})"));
  REQUIRE(ok);
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0].id == "e0");
  CHECK((*ok)[1].prefix_length == 255);
  CHECK((*ok)[1].encap_overhead == 65535);
  CHECK((*ok)[1].namespace_id == "ns");
  CHECK((*ok)[1].enable_low_metric);
  // 300 used to become 44 (uint8_t), 65536 to become 0 (uint16_t).
  CHECK(error_of(endpoints_of(json::parse(R"({"endpoints":[{"ID":"e","PrefixLength":300}]})"))) ==
        "endpoint field 'PrefixLength' must be an integer in 0..255 (uint8), got 300");
  CHECK(
      error_of(endpoints_of(json::parse(R"({"endpoints":[{"ID":"e","EncapOverhead":65536}]})"))) ==
      "endpoint field 'EncapOverhead' must be an integer in 0..65535 (uint16), got 65536");
  CHECK(error_of(endpoints_of(json::parse(R"({"endpoints":[{"ID":"e","MacAddress":1}]})"))) ==
        "endpoint field 'MacAddress' must be a string, got 1");
  CHECK(error_of(endpoints_of(json::parse(R"({"endpoints":[{"ID":"e","Namespace":"ns"}]})"))) ==
        "endpoint field 'Namespace' must be an object, got \"ns\"");
  CHECK(error_of(endpoints_of(json::parse(R"({"endpoints":[{"ID":"e","Namespace":{"ID":2}}]})"))) ==
        "endpoint field 'Namespace' member 'ID' must be a string, got 2");
  CHECK(error_of(endpoints_of(json::parse(R"({"endpoints":[7]})"))) ==
        "an endpoint must be an HNS endpoint object with a string \"ID\", or an id");
}

TEST_CASE("VPCI devices, WCOW layers and VSMB options check their fields", "[scenario_args]") {
  auto dev = vpci_device_of(json::parse(
      R"({"device":{"Functions":[{"DeviceInstancePath":"PCI\\1","VirtualFunction":65535}]}})"));
  REQUIRE(dev);
  CHECK(dev->functions.at(0).virtual_function == 65535);
  CHECK(error_of(vpci_device_of(json::parse(
            R"({"device":{"Functions":[{"DeviceInstancePath":"p","VirtualFunction":65536}]}})"))) ==
        "VPCI function field 'VirtualFunction' must be an integer in 0..65535 (uint16), got 65536");

  CHECK(error_of(wcow_layers_of(json::parse(R"({"layers":[{"Path":"p","Id":7}]})"))) ==
        "layer field 'Id' must be a string, got 7");
  auto layers =
      wcow_layers_of(json::parse(R"({"layers":[{"Path":"p","PathType":"AbsolutePath"}]})"));
  REQUIRE(layers);
  CHECK(layers->at(0).path_type == "AbsolutePath");

  auto vsmb = vsmb_options_of(json::parse(R"({"options":{"ReadOnly":true,"CacheIo":false}})"));
  REQUIRE(vsmb);
  CHECK(vsmb->read_only);
  CHECK(error_of(vsmb_options_of(json::parse(R"({"options":{"ReadOnly":1}})"))) ==
        "VirtualSmbShareOptions field 'ReadOnly' must be true or false, got 1");
  CHECK(error_of(vsmb_options_of(json::parse(R"({"options":{"Readonly":true}})"))) ==
        "unknown VirtualSmbShareOptions field 'Readonly'");
  CHECK(error_of(vsmb_options_of(json::parse(R"({"options":[]})"))) ==
        "\"options\" must be an object of VirtualSmbShareOptions flags");
}

TEST_CASE("plan9 shares and pipe mounts", "[scenario_args]") {
  auto share = plan9_share_of(json::parse(R"({"share":{"Name":"3","HostPath":"/h"}})"));
  REQUIRE(share);
  CHECK(share->name == "3");
  CHECK(share->host_path == "/h");
  CHECK(error_of(plan9_share_of(json::parse(R"({"share":{"Name":"3","UVMPath":[]}})"))) ==
        "share field 'UVMPath' must be a string, got an array");
  CHECK(error_of(plan9_share_of(json::parse(R"({"share":4})"))) ==
        "missing \"share\" (add_plan9's result or its \"Name\")");

  auto mount = pipe_mount_of(json::parse(R"({"mount":{"source":"a","destination":"b"}})"));
  REQUIRE(mount);
  CHECK(mount->destination == "b");
  CHECK(error_of(pipe_mount_of(json::parse(R"({"mount":"a"})"))) ==
        "\"mount\" must be an object, got \"a\"");
  CHECK(error_of(pipe_mount_of(json::parse(R"({"source":"a","destination":1})"))) ==
        "missing string argument \"destination\"");
}

TEST_CASE("create_process and create_container arguments", "[scenario_args]") {
  auto a = process_args_of(
      json::parse(R"({"args":["/bin/true"],"environment":{"A":"1"},"detach":true,"name":"p"})"));
  REQUIRE(a);
  CHECK(a->detach);
  CHECK(a->name == "p");
  CHECK(a->params.environment.at("A") == "1");
  CHECK_FALSE(a->params.create_stdout);
  CHECK(error_of(process_args_of(json::parse(R"({"args":["a",1]})"))) ==
        "\"args\" must be an array of strings, got 1 at index 1");
  CHECK(error_of(process_args_of(json::parse(R"({"args":["a"],"environment":{"A":1}})"))) ==
        "\"environment\" member 'A' must be a string, got 1");
  CHECK(error_of(process_args_of(json::parse(R"({"args":["a"],"detach":"yes"})"))) ==
        "\"detach\" must be true or false, got \"yes\"");
  CHECK(error_of(process_args_of(json::parse(R"({"command_line":5})"))) ==
        "\"command_line\" must be a string, got 5");
  CHECK(error_of(process_args_of(json::parse(R"({"args":["a"],"stdin":[]})"))) ==
        "\"stdin\" must be a string, got an array");

  CHECK(*process_name_of(json::parse(R"({"process":4294967295})")) == "4294967295");
  CHECK(*process_name_of(json::parse(R"({"process":"p"})")) == "p");
  CHECK(error_of(process_name_of(json::parse(R"({"process":4294967296})"))) ==
        "missing \"process\" (the name or pid of a detached create_process), got 4294967296");

  CHECK(error_of(container_settings(json::parse(R"({"args":["a"],"cwd":1})"))) ==
        "\"cwd\" must be a string, got 1");
  CHECK(error_of(container_settings(json::parse(R"({"settings":5})"))) ==
        "\"settings\" must be an object or its JSON text, got 5");
  auto doc = container_settings(json::parse(R"({"args":["sh"]})"));
  REQUIRE(doc);
  CHECK(json::parse(*doc)["OciSpecification"]["process"]["cwd"] == "/");
}

TEST_CASE("update_memory takes MB or bytes, one of them", "[scenario_args]") {
  CHECK(*memory_bytes_of(json::parse(R"({"memory_mb":2048})")) == 2048ULL << 20);
  CHECK(*memory_bytes_of(json::parse(R"({"bytes":1073741825})")) == 1073741825ULL);
  CHECK(error_of(memory_bytes_of(json::parse(R"({"vm":"a"})"))) ==
        "update_memory needs one of \"memory_mb\" or \"bytes\"");
  CHECK(error_of(memory_bytes_of(json::parse(R"({"memory_mb":1,"bytes":1})"))) ==
        "update_memory needs one of \"memory_mb\" or \"bytes\"");
  CHECK(error_of(memory_bytes_of(json::parse(R"({"memory_mb":17592186044416})"))) ==
        "\"memory_mb\" must be an integer in 0..17592186044415, got 17592186044416");
  CHECK(error_of(memory_bytes_of(json::parse(R"({"bytes":-1})"))) ==
        "\"bytes\" must be an integer in 0..18446744073709551615 (uint64), got -1");
  CHECK(error_of(memory_bytes_of(json::parse(R"({"memory_mb":"2G"})"))) ==
        "\"memory_mb\" must be an integer in 0..17592186044415, got \"2G\"");
}

TEST_CASE("update_cpu_limits reads each limit at its type, absent as 0", "[scenario_args]") {
  auto all = cpu_limits_of(json::parse(
      R"({"count":3,"limit":50000,"weight":200,"reservation":10,"maximum_frequency_mhz":900})"));
  REQUIRE(all);
  CHECK(all->count == 3);
  CHECK(all->limit == 50000);
  CHECK(all->weight == 200);
  CHECK(all->reservation == 10);
  CHECK(all->maximum_frequency_mhz == 900);
  auto none = cpu_limits_of(json::parse(R"({"vm":"a"})"));
  REQUIRE(none);
  CHECK(none->count == 0);
  CHECK(none->weight == 0);
  CHECK(error_of(cpu_limits_of(json::parse(R"({"count":4294967296})"))) ==
        "\"count\" must be an integer in 0..4294967295 (uint32), got 4294967296");
  CHECK(error_of(cpu_limits_of(json::parse(R"({"weight":1.5})"))) ==
        "\"weight\" must be an integer in 0..18446744073709551615 (uint64), got 1.5");
  CHECK(error_of(cpu_limits_of(json::parse(R"({"limit":true})"))) ==
        "\"limit\" must be an integer in 0..18446744073709551615 (uint64), got true");
}
