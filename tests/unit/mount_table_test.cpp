// The guest's mount table with a guest step (the agent's real mounts): the
// step runs only for requests the table accepts, and a failed step is the
// request's result and leaves the table unchanged.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bridge/mount_table.hpp"

using uvm::bridge::mount_table;
using uvm::hcs::call_result;

namespace {

const std::string add_vpmem =
    R"({"ResourceType":"VPMemDevice","Settings":{"MountPath":"/run/layers/p0"}})";
const std::string remove_vpmem =
    R"({"RequestType":"Remove","ResourceType":"VPMemDevice","Settings":{"MountPath":"/run/layers/p0"}})";

} // namespace

TEST_CASE("guest table: a step runs for accepted requests, once the table agreed", "[guest]") {
  mount_table table;
  std::vector<std::string> steps;
  auto step = [&](const std::string& type, const std::string& request_type,
                  const nlohmann::json& settings) {
    steps.push_back(request_type + " " + type + " " + settings.value("MountPath", ""));
    return call_result::success();
  };
  CHECK(table.modify_settings(add_vpmem, step).ok());
  CHECK_FALSE(table.modify_settings(add_vpmem, step).ok()); // already present: no step
  CHECK(table.modify_settings(remove_vpmem, step).ok());
  CHECK_FALSE(table.modify_settings(remove_vpmem, step).ok()); // not present: no step
  CHECK(table.modify_settings(R"({"ResourceType":"MappedVirtualDisk","Settings":{"Lun":1}})", step)
            .ok()); // no mount path: nothing for the guest
  CHECK(steps == std::vector<std::string>{"Add VPMemDevice /run/layers/p0",
                                          "Remove VPMemDevice /run/layers/p0"});
}

TEST_CASE("guest table: a failed step is the result and changes nothing", "[guest]") {
  mount_table table;
  bool fail = true;
  auto step = [&](const std::string&, const std::string&, const nlohmann::json&) {
    return fail ? call_result::failure(0x80004005, "mount /dev/pmem0 on /run/layers/p0: boom")
                : call_result::success();
  };
  auto r = table.modify_settings(add_vpmem, step);
  CHECK(r.hresult == 0x80004005);
  CHECK(r.message == "mount /dev/pmem0 on /run/layers/p0: boom");
  CHECK(table.mounts().empty());

  fail = false;
  REQUIRE(table.modify_settings(add_vpmem, step).ok());
  fail = true;
  CHECK_FALSE(table.modify_settings(remove_vpmem, step).ok());
  CHECK(table.mounts().contains("VPMemDevice /run/layers/p0"));
}

TEST_CASE("guest table: requests read as Go reads them (case, escapes, repeats, odd settings)",
          "[guest]") {
  mount_table table;
  std::vector<nlohmann::json> seen;
  auto step = [&](const std::string&, const std::string&, const nlohmann::json& settings) {
    seen.push_back(settings);
    return call_result::success();
  };
  // Names in any case and escaped; a repeated name keeps its last value.
  CHECK(
      table
          .modify_settings(
              R"({"resourcetype":"VPMemDevice","SETTINGS":{"Mount\u0050ath":"/run/a\u00e9","MountPath":"/run/b","x":[1,{"y":null}]}})",
              step)
          .ok());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == nlohmann::json::parse(R"({"MountPath":"/run/b","x":[1,{"y":null}]})"));
  CHECK(table.mounts().contains("VPMemDevice /run/b"));
  // Settings that are not an object name nothing; the table keeps them as sent.
  CHECK(table.modify_settings(R"({"ResourceType":"VPMemDevice","Settings":5})", step).ok());
  CHECK(table.mounts()["VPMemDevice "] == 5);
  // A member of the wrong type counts as absent.
  auto r = table.modify_settings(R"({"ResourceType":7})", step);
  CHECK(r.message == "invalid ResourceType ''");
  r = table.modify_settings(R"({"ResourceType":"VPMemDevice","Settings":{}} x)", step);
  CHECK(r.hresult == 0xC037010D);
  CHECK(r.message == "invalid guest request JSON");
  r = table.modify_settings(
      R"({"ResourceType":"VPMemDevice","RequestType":"Update","Settings":{"MountPath":"/p"}})",
      step);
  CHECK(r.message == "the RequestType \"Update\" is not supported");
}
