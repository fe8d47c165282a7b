// The network namespace table: the seed's errors, endpoint dedup, NIC ids
// from the caller, and random operation sequences against a reference model.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/core/netns_table.hpp"

using uvm::errc;
using uvm::netns_table;
using uvm::hcs::network_endpoint;

namespace {

network_endpoint endpoint(const std::string& id) {
  network_endpoint e;
  e.id = id;
  e.mac_address = "00-15-5D-00-00-0" + id.substr(id.size() - 1);
  e.namespace_id = "ns1";
  return e;
}

std::vector<std::string> nic_ids(const std::vector<uvm::netns_nic>& nics) {
  std::vector<std::string> out;
  for (const auto& n : nics) {
    out.push_back(n.nic_id + "=" + n.endpoint.id);
  }
  return out;
}

} // namespace

TEST_CASE("netns: namespaces are added once", "[netns]") {
  netns_table t;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  auto again = t.add_namespace("ns1");
  CHECK(again.code == errc::netns_already_attached);
  CHECK(again.text == "network namespace already added");
  CHECK(t.contains("ns1"));
}

TEST_CASE("netns: endpoints of unknown namespaces are not found", "[netns]") {
  netns_table t;
  auto add = t.add_endpoints("nsX", {endpoint("e1")}, [] { return std::string{"nic"}; });
  REQUIRE_FALSE(add);
  CHECK(add.err().code == errc::netns_not_found);
  CHECK(add.err().text == "network namespace not found");
  CHECK(t.remove_endpoints("nsX", {"e1"}).err().text == "network namespace not found");
  CHECK_FALSE(t.remove_namespace("nsX")); // unknown: a success with nothing to do
}

TEST_CASE("netns: endpoints are deduplicated and get the caller's NIC ids", "[netns]") {
  netns_table t;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  int n = 0;
  auto next = [&n] { return "nic" + std::to_string(++n); };
  auto first = t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2"), endpoint("e1")}, next);
  REQUIRE(first);
  CHECK(nic_ids(*first) == std::vector<std::string>{"nic1=e1", "nic2=e2"});
  auto second = t.add_endpoints("ns1", {endpoint("e2"), endpoint("e3")}, next);
  CHECK(nic_ids(*second) == std::vector<std::string>{"nic3=e3"});
  CHECK(second->at(0).endpoint.mac_address == "00-15-5D-00-00-03");

  auto removed = t.remove_endpoints("ns1", {"e1", "e9", "e1"});
  REQUIRE(removed);
  CHECK(nic_ids(*removed) == std::vector<std::string>{"nic1=e1"});
  CHECK(nic_ids(t.nics("ns1")) == std::vector<std::string>{"nic2=e2", "nic3=e3"});
  CHECK(t.to_json()["ns1"]["e3"]["nic_id"] == "nic3");

  auto all = t.remove_namespace("ns1");
  REQUIRE(all);
  CHECK(nic_ids(*all) == std::vector<std::string>{"nic2=e2", "nic3=e3"});
  CHECK_FALSE(t.contains("ns1"));
  CHECK_FALSE(t.add_namespace("ns1")); // it can be added again
  CHECK(t.nics("ns1").empty());
}

TEST_CASE("netns: random operations agree with the model", "[netns]") {
  netns_table t;
  std::mt19937 rng(11);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  std::map<std::string, std::map<std::string, std::string>> model; // ns -> endpoint -> NIC
  int nics = 0;
  auto next = [&nics] { return "nic" + std::to_string(++nics); };
  for (int step = 0; step < 20000; ++step) {
    auto ns = "ns" + std::to_string(pick(4));
    std::vector<network_endpoint> eps;
    std::vector<std::string> ids;
    for (uint32_t i = 0, k = pick(4); i < k; ++i) {
      eps.push_back(endpoint("e" + std::to_string(pick(8))));
      ids.push_back(eps.back().id);
    }
    bool known = model.count(ns) != 0;
    switch (pick(4)) {
    case 0: {
      auto err = t.add_namespace(ns);
      REQUIRE(err.code == (known ? errc::netns_already_attached : errc::ok));
      model[ns];
      break;
    }
    case 1: {
      auto r = t.add_endpoints(ns, eps, next);
      REQUIRE(bool(r) == known);
      if (!known) {
        REQUIRE(r.err().code == errc::netns_not_found);
        break;
      }
      std::vector<std::string> expected;
      int nic = nics - static_cast<int>(r->size());
      for (const auto& id : ids) {
        if (model[ns].count(id) == 0) {
          model[ns][id] = "nic" + std::to_string(++nic);
          expected.push_back(model[ns][id] + "=" + id);
        }
      }
      REQUIRE(nic_ids(*r) == expected);
      break;
    }
    case 2: {
      auto r = t.remove_endpoints(ns, ids);
      REQUIRE(bool(r) == known);
      if (!known) {
        REQUIRE(r.err().code == errc::netns_not_found);
        break;
      }
      std::vector<std::string> expected;
      for (const auto& id : ids) {
        if (auto it = model[ns].find(id); it != model[ns].end()) {
          expected.push_back(it->second + "=" + id);
          model[ns].erase(it);
        }
      }
      REQUIRE(nic_ids(*r) == expected);
      break;
    }
    default: {
      auto r = t.remove_namespace(ns);
      REQUIRE(bool(r) == known);
      if (known) {
        REQUIRE(r->size() == model[ns].size());
        model.erase(ns);
      }
    }
    }
    for (const auto& [id, endpoints] : model) {
      REQUIRE(t.contains(id));
      std::vector<std::string> expected;
      for (const auto& [ep, nic] : endpoints) {
        expected.push_back(nic + "=" + ep);
      }
      REQUIRE(nic_ids(t.nics(id)) == expected);
    }
    REQUIRE(t.to_json().size() == model.size());
  }
}
