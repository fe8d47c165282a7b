// The Plan9 table: names, flags, no ref-counting, the in-flight states, and
// random operation sequences against a reference model.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/core/plan9_table.hpp"
#include "hcs/go_json.hpp"

using uvm::errc;
using uvm::plan9_state;
using uvm::plan9_table;

TEST_CASE("plan9: flags are LinuxMetadata plus read-only and restrict", "[plan9]") {
  CHECK(plan9_table::flags_for(false, false) == 0x4);
  CHECK(plan9_table::flags_for(true, false) == 0x5);
  CHECK(plan9_table::flags_for(false, true) == 0x84);
  CHECK(plan9_table::flags_for(true, true) == 0x85);
}

TEST_CASE("plan9: the first share is the vector's request", "[plan9]") {
  plan9_table t;
  auto r = t.begin_add(R"(C:\share\data)", "/run/mounts/m2", true, false, {});
  REQUIRE(r);
  CHECK(r->mount.name == "0");
  CHECK(r->state == plan9_state::adding);
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/plan9-add-lcow.modify.json", std::ios::binary);
  std::string expected(std::istreambuf_iterator<char>(in), {});
  CHECK(uvm::hcs::go_dump(uvm::hcs::combined_request(uvm::hcs::plan9_add(r->mount))) == expected);
}

TEST_CASE("plan9: every add is a new share; names count even past failures", "[plan9]") {
  plan9_table t;
  auto missing = t.begin_add("/srv/x", "", false, false, {});
  REQUIRE_FALSE(missing);
  CHECK(missing.err().text == "uvmPath must be passed to AddPlan9");
  CHECK(t.counter() == 0); // checked before the counter is taken

  auto a = t.begin_add("/srv/x", "/m/a", false, true, {"f1"});
  REQUIRE(a);
  CHECK(a->mount.flags == 0x84);
  CHECK(a->mount.allowed_files == std::vector<std::string>{"f1"});
  REQUIRE_FALSE(t.add_failed("0"));
  auto b = t.begin_add("/srv/x", "/m/b", false, false, {});
  auto c = t.begin_add("/srv/x", "/m/c", false, false, {});
  CHECK(b->mount.name == "1");
  CHECK(c->mount.name == "2");
  REQUIRE_FALSE(t.add_succeeded("1"));
  REQUIRE_FALSE(t.add_succeeded("2"));
  CHECK(t.entries().size() == 2); // the same host path, two shares
  CHECK(t.to_json()["1"]["uvm_path"] == "/m/b");
  CHECK(t.to_json()["2"]["state"] == "live");
}

TEST_CASE("plan9: only live shares can be removed", "[plan9]") {
  plan9_table t;
  REQUIRE(t.begin_add("/srv/x", "/m/a", false, false, {}));
  auto adding = t.begin_remove("0");
  REQUIRE_FALSE(adding);
  CHECK(adding.err().text == "not attached");
  CHECK(t.begin_remove("7").err().code == errc::not_attached);
  REQUIRE_FALSE(t.add_succeeded("0"));
  auto r = t.begin_remove("0");
  REQUIRE(r);
  CHECK(r->mount.uvm_path == "/m/a");
  CHECK(t.begin_remove("0").err().code == errc::not_attached); // already being removed
  REQUIRE_FALSE(t.remove_failed("0"));
  CHECK(t.entries().at(0).state == plan9_state::live);
  REQUIRE(t.begin_remove("0"));
  REQUIRE_FALSE(t.remove_succeeded("0"));
  CHECK(t.entries().empty());
  CHECK(t.remove_succeeded("0").code == errc::internal);
  CHECK(t.add_failed("0").code == errc::internal);
}

TEST_CASE("plan9: random operations with failures agree with the model", "[plan9]") {
  plan9_table t;
  std::mt19937 rng(5);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  std::map<std::string, plan9_state> model;
  uint64_t counter = 0;
  auto in = [&](plan9_state s) {
    std::vector<std::string> out;
    for (const auto& [name, state] : model) {
      if (state == s) {
        out.push_back(name);
      }
    }
    return out;
  };
  for (int step = 0; step < 20000; ++step) {
    int op = pick(100);
    if (op < 25) {
      bool no_path = pick(20) == 0;
      auto r = t.begin_add("/srv/" + std::to_string(pick(4)), no_path ? "" : "/m", pick(2) == 0,
                           pick(2) == 0, {});
      REQUIRE(bool(r) == !no_path);
      if (r) {
        REQUIRE(r->mount.name == std::to_string(counter++));
        model[r->mount.name] = plan9_state::adding;
      }
    } else if (op < 55) {
      // Mostly live shares, sometimes any name.
      auto live = in(plan9_state::live);
      auto name = !live.empty() && pick(4) != 0
                      ? live[pick(static_cast<uint32_t>(live.size()))]
                      : std::to_string(pick(static_cast<uint32_t>(counter + 1)));
      auto r = t.begin_remove(name);
      auto it = model.find(name);
      bool removable = it != model.end() && it->second == plan9_state::live;
      REQUIRE(bool(r) == removable);
      if (removable) {
        it->second = plan9_state::removing;
      } else {
        REQUIRE(r.err().code == errc::not_attached);
      }
    } else if (op < 80) {
      auto adding = in(plan9_state::adding);
      if (!adding.empty()) {
        auto name = adding[pick(static_cast<uint32_t>(adding.size()))];
        if (pick(4) != 0) {
          REQUIRE_FALSE(t.add_succeeded(name));
          model[name] = plan9_state::live;
        } else {
          REQUIRE_FALSE(t.add_failed(name));
          model.erase(name);
        }
      }
    } else {
      auto removing = in(plan9_state::removing);
      if (!removing.empty()) {
        auto name = removing[pick(static_cast<uint32_t>(removing.size()))];
        if (pick(4) != 0) {
          REQUIRE_FALSE(t.remove_succeeded(name));
          model.erase(name);
        } else {
          REQUIRE_FALSE(t.remove_failed(name));
          model[name] = plan9_state::live;
        }
      }
    }
    REQUIRE(t.counter() == counter);
    auto entries = t.entries();
    REQUIRE(entries.size() == model.size());
    for (const auto& e : entries) {
      REQUIRE(model.at(e.mount.name) == e.state);
    }
  }
}
