#include <catch2/catch.hpp>

#include "actors/core/logging.hpp"

using namespace uvm::logging;

TEST_CASE("log lines carry the VM id and the activity id", "[logging]") {
  context ctx{"vm1", "0b4a25d6-8f85-49e7-b344-e850d4913861"};
  auto human = render(format::human, level::info, ctx, "utility VM created", {{"os", "linux"}});
  CHECK(human ==
        "info vm=vm1 activity=0b4a25d6-8f85-49e7-b344-e850d4913861 utility VM created os=linux");
  auto line = nlohmann::json::parse(render(format::json, level::warn, ctx, "x", {{"n", 3}}));
  CHECK(line["vm_id"] == "vm1");
  CHECK(line["activity_id"] == "0b4a25d6-8f85-49e7-b344-e850d4913861");
  CHECK(line["level"] == "warning");
  CHECK(line["msg"] == "x");
  CHECK(line["n"] == 3);
  CHECK(line.contains("time"));
  // Lines outside any VM still say so.
  CHECK(render(format::human, level::error, {}, "m", nlohmann::json::object()) ==
        "error vm=- activity=- m");
}

TEST_CASE("log format and level names", "[logging]") {
  format f{};
  CHECK(parse_format("json", f));
  CHECK(f == format::json);
  CHECK_FALSE(parse_format("xml", f));
  level l{};
  CHECK(parse_level("warning", l));
  CHECK(l == level::warn);
  CHECK_FALSE(parse_level("loud", l));
}
