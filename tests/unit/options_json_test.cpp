// The options of a scenario's create_lcow / create_wcow and its
// restart_policy, read strictly: every integer field must fit its Go type
// (the same C++ type here), the error names the field, enumerations take
// only their values, wrong JSON types and unknown fields are errors.
#include "tools/uvmctl/options_json.hpp"

#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using nlohmann::json;
using namespace uvm;
using namespace uvm::cli;

namespace {

host_info test_host() {
  host_info host;
  host.executable_name = "uvmctl";
  host.executable_dir = "/opt/uvm";
  return host;
}

bool nothing_exists(const std::string&) {
  return false;
}

// An integer field: its JSON name, the limits of its Go type as JSON
// text, the Go type's name and the value it was stored as.
struct int_field {
  const char* name;
  const char* min;
  const char* max;
  const char* below; // min - 1 as JSON text
  const char* above; // max + 1 as JSON text
  const char* type;
  std::function<json(const json& options)> stored;
};

const char* const i32_min = "-2147483648";
const char* const i32_max = "2147483647";
const char* const i32_below = "-2147483649";
const char* const i32_above = "2147483648";
const char* const u32_max = "4294967295";
const char* const u32_above = "4294967296";
const char* const u64_max = "18446744073709551615";
const char* const u64_above = "18446744073709551616";

json lcow_stored(const json& j, std::function<json(const options_lcow&)> field) {
  auto o = lcow_options_from_json(j, test_host(), nothing_exists);
  REQUIRE(o);
  return field(*o);
}

std::vector<int_field> lcow_int_fields() {
  auto common = [](auto member) {
    return [member](const json& j) {
      return lcow_stored(j, [member](const options_lcow& o) { return json(o.common.*member); });
    };
  };
  auto own = [](auto member) {
    return [member](const json& j) {
      return lcow_stored(j, [member](const options_lcow& o) { return json(o.*member); });
    };
  };
  return {
      {"MemorySizeInMB", i32_min, i32_max, i32_below, i32_above, "int32",
       common(&options::memory_size_in_mb)},
      {"ProcessorCount", i32_min, i32_max, i32_below, i32_above, "int32",
       common(&options::processor_count)},
      {"ProcessorLimit", i32_min, i32_max, i32_below, i32_above, "int32",
       common(&options::processor_limit)},
      {"ProcessorWeight", i32_min, i32_max, i32_below, i32_above, "int32",
       common(&options::processor_weight)},
      {"StorageQoSIopsMaximum", i32_min, i32_max, i32_below, i32_above, "int32",
       common(&options::storage_qos_iops_maximum)},
      {"StorageQoSBandwidthMaximum", i32_min, i32_max, i32_below, i32_above, "int32",
       common(&options::storage_qos_bandwidth_maximum)},
      {"LowMMIOGapInMB", "0", u64_max, "-1", u64_above, "uint64",
       common(&options::low_mmio_gap_in_mb)},
      {"HighMMIOBaseInMB", "0", u64_max, "-1", u64_above, "uint64",
       common(&options::high_mmio_base_in_mb)},
      {"HighMMIOGapInMB", "0", u64_max, "-1", u64_above, "uint64",
       common(&options::high_mmio_gap_in_mb)},
      {"SCSIControllerCount", "0", u32_max, "-1", u32_above, "uint32",
       own(&options_lcow::scsi_controller_count)},
      {"VPMemDeviceCount", "0", u32_max, "-1", u32_above, "uint32",
       own(&options_lcow::vpmem_device_count)},
      {"VPMemSizeBytes", "0", u64_max, "-1", u64_above, "uint64",
       own(&options_lcow::vpmem_size_bytes)},
  };
}

// The options object of `{"<name>": <value>}` with the value as JSON text.
json options_with(const std::string& name, const std::string& value) {
  return json::parse("{\"" + name + "\": " + value + "}");
}

std::string lcow_error(const json& j) {
  auto o = lcow_options_from_json(j, test_host(), nothing_exists);
  REQUIRE_FALSE(o);
  CHECK(o.err().code == errc::bad_request);
  return o.err().text;
}

} // namespace

TEST_CASE("every integer option takes the whole range of its Go type, exactly", "[options_json]") {
  for (const auto& f : lcow_int_fields()) {
    INFO(f.name);
    for (const char* value : {f.min, f.max, "0", "1"}) {
      CHECK(f.stored(options_with(f.name, value)) == json::parse(value));
    }
  }
}

TEST_CASE("every integer option outside its Go type is an error naming the field",
          "[options_json]") {
  for (const auto& f : lcow_int_fields()) {
    INFO(f.name);
    std::string prefix = std::string{"options field '"} + f.name + "' must be an integer in " +
                         f.min + ".." + f.max + " (" + f.type + "), got ";
    CHECK(lcow_error(options_with(f.name, f.above)).rfind(prefix, 0) == 0);
    CHECK(lcow_error(options_with(f.name, f.below)).rfind(prefix, 0) == 0);
    CHECK(lcow_error(options_with(f.name, "1.5")) == prefix + "1.5");
    CHECK(lcow_error(options_with(f.name, "1e3")) == prefix + "1000.0");
    CHECK(lcow_error(options_with(f.name, "\"7\"")) == prefix + "\"7\"");
    CHECK(lcow_error(options_with(f.name, "true")) == prefix + "true");
    CHECK(lcow_error(options_with(f.name, "[1]")) == prefix + "an array");
    CHECK(lcow_error(options_with(f.name, "{}")) == prefix + "an object");
  }
  // The issue's example: 2^32 used to wrap to 0 and create a VM.
  CHECK(lcow_error(options_with("VPMemDeviceCount", "4294967296")) ==
        "options field 'VPMemDeviceCount' must be an integer in 0..4294967295 (uint32), got "
        "4294967296");
  CHECK(lcow_error(options_with("MemorySizeInMB", "2147483648")) ==
        "options field 'MemorySizeInMB' must be an integer in -2147483648..2147483647 (int32), "
        "got 2147483648");
  CHECK(lcow_error(options_with("VPMemSizeBytes", u64_above)) ==
        "options field 'VPMemSizeBytes' must be an integer in 0..18446744073709551615 (uint64), "
        "got 1.8446744073709552e+19");
}

TEST_CASE("an int32 option takes -0 as zero and no unsigned one takes it, as in Go",
          "[options_json]") {
  // encoding/json parses an unsigned field's literal with strconv.ParseUint,
  // which refuses any minus sign; a signed one with ParseInt.
  for (const auto& f : lcow_int_fields()) {
    INFO(f.name);
    if (f.type == std::string{"int32"}) {
      CHECK(f.stored(options_with(f.name, "-0")) == json(0));
    } else {
      CHECK(lcow_error(options_with(f.name, "-0")) ==
            std::string{"options field '"} + f.name + "' must be an integer in " + f.min + ".." +
                f.max + " (" + f.type + "), got -0");
    }
  }
}

TEST_CASE("WCOW options check the common integers the same way", "[options_json]") {
  auto o = wcow_options_from_json(options_with("ProcessorWeight", i32_above), test_host());
  REQUIRE_FALSE(o);
  CHECK(o.err().text == "options field 'ProcessorWeight' must be an integer in "
                        "-2147483648..2147483647 (int32), got 2147483648");
  auto ok = wcow_options_from_json(
      json::parse(R"({"HighMMIOGapInMB": 18446744073709551615, "LayerFolders": ["a", "b"]})"),
      test_host());
  REQUIRE(ok);
  CHECK(ok->common.high_mmio_gap_in_mb == UINT64_MAX);
  CHECK(ok->layer_folders == std::vector<std::string>{"a", "b"});
}

TEST_CASE("options of the wrong JSON type are errors naming the field", "[options_json]") {
  CHECK(lcow_error(options_with("ID", "5")) == "options field 'ID' must be a string, got 5");
  CHECK(lcow_error(options_with("KernelDirect", "1")) ==
        "options field 'KernelDirect' must be true or false, got 1");
  CHECK(lcow_error(options_with("BootFilesPath", "[\"a\"]")) ==
        "options field 'BootFilesPath' must be a string, got an array");
  std::string long_text(100, 'x');
  CHECK(lcow_error(options_with("Owner", "{\"a\": \"" + long_text + "\"}")) ==
        "options field 'Owner' must be a string, got an object");
  CHECK(lcow_error(options_with("ForwardStdout", "\"" + long_text + "\"")) ==
        "options field 'ForwardStdout' must be true or false, got a string of 100 bytes");
  auto w = wcow_options_from_json(options_with("LayerFolders", "[\"a\", 3]"), test_host());
  REQUIRE_FALSE(w);
  CHECK(w.err().text ==
        "options field 'LayerFolders' must be an array of strings, got 3 at index 1");
  CHECK(lcow_error(json::array()) == "options must be an object, got an array");
  // null is an omitted field: the default stays.
  auto o =
      lcow_options_from_json(options_with("VPMemDeviceCount", "null"), test_host(), nothing_exists);
  REQUIRE(o);
  CHECK(o->vpmem_device_count == default_vpmem_count);
}

TEST_CASE("VPMemNoMultiMapping is true unless the options turn multi-mapping on",
          "[options_json][vpmem]") {
  auto def = lcow_options_from_json(json::object(), test_host(), nothing_exists);
  REQUIRE(def);
  CHECK(def->vpmem_no_multi_mapping);
  auto on = lcow_options_from_json(options_with("VPMemNoMultiMapping", "false"), test_host(),
                                   nothing_exists);
  REQUIRE(on);
  CHECK_FALSE(on->vpmem_no_multi_mapping);
  CHECK(lcow_error(options_with("VPMemNoMultiMapping", "0")) ==
        "options field 'VPMemNoMultiMapping' must be true or false, got 0");
}

TEST_CASE("enumerated options take only their values", "[options_json]") {
  CHECK(lcow_error(options_with("PreferredRootFSType", "2")) ==
        "options field 'PreferredRootFSType' must be an integer in 0..1 (0 = "
        "PreferredRootFSTypeInitRd, 1 = PreferredRootFSTypeVHD), got 2");
  CHECK(lcow_error(options_with("PreferredRootFSType", "-1")).find("got -1") != std::string::npos);
  auto vhd =
      lcow_options_from_json(options_with("PreferredRootFSType", "1"), test_host(), nothing_exists);
  REQUIRE(vhd);
  CHECK(vhd->preferred_root_fs_type == preferred_rootfs_type::vhd);
  CHECK(lcow_error(options_with("Backend", "\"kvm\"")) ==
        "options field 'Backend' must be \"sim\" or \"qemu\", got \"kvm\"");
  for (const char* backend : {"\"sim\"", "\"qemu\"", "\"\""}) {
    CHECK(lcow_options_from_json(options_with("Backend", backend), test_host(), nothing_exists));
  }
  CHECK(lcow_error(options_with("Bogus", "1")) == "unknown options field 'Bogus'");
}

TEST_CASE("the defaults look for boot files through the given function", "[options_json]") {
  std::vector<std::string> asked;
  auto o = lcow_options_from_json(json(nullptr), test_host(), [&](const std::string& p) {
    asked.push_back(p);
    return false;
  });
  REQUIRE(o);
  CHECK_FALSE(asked.empty());
  CHECK(asked.front() == "/opt/uvm/LinuxBootFiles");
}

TEST_CASE("restart_policy fields are uint32 and its kind is an enumeration", "[options_json]") {
  for (const char* name : {"max_restarts", "window_ms", "backoff_ms", "backoff_max_ms"}) {
    INFO(name);
    auto p = restart_policy_from_json(options_with(name, u32_max));
    REQUIRE(p);
    auto bad = restart_policy_from_json(options_with(name, u32_above));
    REQUIRE_FALSE(bad);
    CHECK(bad.err().text == std::string{"restart_policy field '"} + name +
                                "' must be an integer in 0..4294967295 (uint32), got 4294967296");
    CHECK_FALSE(restart_policy_from_json(options_with(name, "-1")));
  }
  auto p = restart_policy_from_json(json::parse(
      R"({"policy":"on-failure","max_restarts":4294967295,"window_ms":1,"backoff_ms":2,"backoff_max_ms":3})"));
  REQUIRE(p);
  CHECK(p->kind == restart_kind::on_failure);
  CHECK(p->max_restarts == UINT32_MAX);
  CHECK(p->backoff_max_ms == 3);
  auto kind = restart_policy_from_json(json::parse(R"({"policy":"always"})"));
  REQUIRE_FALSE(kind);
  CHECK(kind.err().text == "restart policy must be \"never\" or \"on-failure\"");
  auto unknown = restart_policy_from_json(json::parse(R"({"policy":"never","retries":1})"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().text == "unknown restart_policy field 'retries'");
  CHECK(restart_policy_from_json(json(3)).err().text == "restart_policy must be an object, got 3");
}
