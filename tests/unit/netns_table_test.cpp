// The network namespace table: the seed's errors, endpoint dedup, NIC ids
// from the caller, removals that only mark what they remove until the caller
// reports each outcome, take-backs of failed adds, and random operation
// sequences (with removals in flight) against a reference model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
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

// nic_ids with a " removing" mark on NICs whose removal is in flight.
std::vector<std::string> states(const std::vector<uvm::netns_nic>& nics) {
  std::vector<std::string> out;
  for (const auto& n : nics) {
    out.push_back(n.nic_id + "=" + n.endpoint.id + (n.removing ? " removing" : ""));
  }
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

struct counter {
  int n = 0;
  std::string operator()() { return "nic" + std::to_string(++n); }
};

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
  CHECK_FALSE(t.contains("nsX"));
  CHECK(t.to_json() == nlohmann::json::object());
}

TEST_CASE("netns: endpoints are deduplicated and get the caller's NIC ids", "[netns]") {
  netns_table t;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  int n = 0;
  auto next = [&n] { return "nic" + std::to_string(++n); };
  auto first = t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2"), endpoint("e1")}, next);
  REQUIRE(first);
  CHECK(nic_ids(*first) == std::vector<std::string>{"nic1=e1", "nic2=e2"});
  CHECK(states(*first) == std::vector<std::string>{"nic1=e1", "nic2=e2"});
  auto second = t.add_endpoints("ns1", {endpoint("e2"), endpoint("e3")}, next);
  REQUIRE(second);
  CHECK(nic_ids(*second) == std::vector<std::string>{"nic3=e3"});
  CHECK(second->at(0).endpoint.mac_address == "00-15-5D-00-00-03");
  CHECK(n == 3); // one NIC id per recorded endpoint, none for duplicates

  auto removed = t.remove_endpoints("ns1", {"e1", "e9", "e1"});
  REQUIRE(removed);
  CHECK(states(*removed) == std::vector<std::string>{"nic1=e1 removing"});
  // Marked only: still recorded (and shown) until its removal is reported.
  CHECK(states(t.nics("ns1")) ==
        std::vector<std::string>{"nic1=e1 removing", "nic2=e2", "nic3=e3"});
  CHECK(t.to_json()["ns1"]["e1"]["nic_id"] == "nic1");
  t.nic_removed("ns1", "e1");
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic2=e2", "nic3=e3"});
  CHECK(t.to_json()["ns1"]["e3"]["nic_id"] == "nic3");
  CHECK(t.to_json()["ns1"]["e3"]["mac_address"] == "00-15-5D-00-00-03");
  CHECK_FALSE(t.to_json()["ns1"].contains("e1"));

  auto all = t.remove_namespace("ns1");
  REQUIRE(all);
  CHECK(sorted(states(*all)) == std::vector<std::string>{"nic2=e2 removing", "nic3=e3 removing"});
  CHECK(t.contains("ns1")); // until namespace_removed
  t.nic_removed("ns1", "e2");
  t.nic_removed("ns1", "e3");
  CHECK(t.nics("ns1").empty());
  CHECK(t.contains("ns1"));
  t.namespace_removed("ns1", true);
  CHECK_FALSE(t.contains("ns1"));
  CHECK(t.to_json() == nlohmann::json::object());
  CHECK_FALSE(t.add_namespace("ns1")); // it can be added again
  CHECK(t.nics("ns1").empty());
}

TEST_CASE("netns: a failed NIC removal keeps the NIC for a retry", "[netns]") {
  netns_table t;
  counter next;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  REQUIRE(t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2")}, std::ref(next)));

  auto first = t.remove_endpoints("ns1", {"e1"});
  REQUIRE(first);
  CHECK(states(*first) == std::vector<std::string>{"nic1=e1 removing"});
  t.nic_remove_failed("ns1", "e1");
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic1=e1", "nic2=e2"});
  CHECK(t.to_json()["ns1"]["e1"]["nic_id"] == "nic1");
  CHECK(t.to_json()["ns1"]["e1"]["mac_address"] == "00-15-5D-00-00-01");

  // The retry gets the same NIC (same id, same endpoint) again.
  auto retry = t.remove_endpoints("ns1", {"e1"});
  REQUIRE(retry);
  REQUIRE(retry->size() == 1);
  CHECK(states(*retry) == std::vector<std::string>{"nic1=e1 removing"});
  CHECK(retry->at(0).endpoint.mac_address == "00-15-5D-00-00-01");
  t.nic_removed("ns1", "e1");
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic2=e2"});

  // Once gone, the endpoint can be added again with a fresh NIC.
  auto again = t.add_endpoints("ns1", {endpoint("e1")}, std::ref(next));
  REQUIRE(again);
  CHECK(nic_ids(*again) == std::vector<std::string>{"nic3=e1"});
}

TEST_CASE("netns: an endpoint being removed is not returned twice", "[netns]") {
  netns_table t;
  counter next;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  REQUIRE(t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2")}, std::ref(next)));

  auto first = t.remove_endpoints("ns1", {"e1"});
  REQUIRE(first);
  CHECK(nic_ids(*first) == std::vector<std::string>{"nic1=e1"});
  auto second = t.remove_endpoints("ns1", {"e1", "e2"});
  REQUIRE(second);
  CHECK(states(*second) == std::vector<std::string>{"nic2=e2 removing"});
  auto third = t.remove_endpoints("ns1", {"e1", "e2"});
  REQUIRE(third);
  CHECK(third->empty());

  // Nor is it added again while its removal is in flight.
  auto add = t.add_endpoints("ns1", {endpoint("e1")}, std::ref(next));
  REQUIRE(add);
  CHECK(add->empty());
  CHECK(next.n == 2);

  // remove_namespace skips NICs already being removed.
  t.nic_remove_failed("ns1", "e2");
  auto ns = t.remove_namespace("ns1");
  REQUIRE(ns);
  CHECK(states(*ns) == std::vector<std::string>{"nic2=e2 removing"});
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic1=e1 removing", "nic2=e2 removing"});
}

TEST_CASE("netns: a namespace being removed is removed once and takes no endpoints", "[netns]") {
  netns_table t;
  counter next;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  REQUIRE(t.add_endpoints("ns1", {endpoint("e1")}, std::ref(next)));
  auto first = t.remove_namespace("ns1");
  REQUIRE(first);
  CHECK(nic_ids(*first) == std::vector<std::string>{"nic1=e1"});

  CHECK_FALSE(t.remove_namespace("ns1")); // already being removed
  auto add = t.add_endpoints("ns1", {endpoint("e2")}, std::ref(next));
  REQUIRE_FALSE(add);
  CHECK(add.err().code == errc::netns_not_found);
  CHECK(add.err().text == "network namespace not found");
  CHECK(next.n == 1);
  CHECK(t.add_namespace("ns1").code == errc::netns_already_attached);
  CHECK(t.contains("ns1"));
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic1=e1 removing"});

  // Back to normal after a failed removal: endpoints are taken again.
  t.nic_removed("ns1", "e1");
  t.namespace_removed("ns1", false);
  CHECK(t.contains("ns1"));
  auto later = t.add_endpoints("ns1", {endpoint("e2")}, std::ref(next));
  REQUIRE(later);
  CHECK(nic_ids(*later) == std::vector<std::string>{"nic2=e2"});
  CHECK(t.remove_namespace("ns1"));
}

TEST_CASE("netns: a failed namespace removal keeps the NICs that are left", "[netns]") {
  netns_table t;
  counter next;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  REQUIRE_FALSE(t.add_namespace("ns2"));
  REQUIRE(t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2"), endpoint("e3")}, std::ref(next)));
  REQUIRE(t.add_endpoints("ns2", {endpoint("e1")}, std::ref(next)));

  auto removing = t.remove_namespace("ns1");
  REQUIRE(removing);
  CHECK(sorted(states(*removing)) ==
        std::vector<std::string>{"nic1=e1 removing", "nic2=e2 removing", "nic3=e3 removing"});
  t.nic_removed("ns1", "e1");
  t.nic_remove_failed("ns1", "e2");
  t.nic_remove_failed("ns1", "e3");
  t.namespace_removed("ns1", false);

  CHECK(t.contains("ns1"));
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic2=e2", "nic3=e3"});
  CHECK(t.to_json() ==
        nlohmann::json{
            {"ns1",
             {{"e2", {{"nic_id", "nic2"}, {"mac_address", "00-15-5D-00-00-02"}}},
              {"e3", {{"nic_id", "nic3"}, {"mac_address", "00-15-5D-00-00-03"}}}}},
            {"ns2", {{"e1", {{"nic_id", "nic4"}, {"mac_address", "00-15-5D-00-00-01"}}}}},
        });

  // The retry removes what is left.
  auto retry = t.remove_namespace("ns1");
  REQUIRE(retry);
  CHECK(sorted(nic_ids(*retry)) == std::vector<std::string>{"nic2=e2", "nic3=e3"});
  t.nic_removed("ns1", "e2");
  t.nic_removed("ns1", "e3");
  t.namespace_removed("ns1", true);
  CHECK_FALSE(t.contains("ns1"));
  CHECK(states(t.nics("ns2")) == std::vector<std::string>{"nic4=e1"}); // untouched
}

TEST_CASE("netns: failed adds are taken back", "[netns]") {
  netns_table t;
  counter next;
  REQUIRE_FALSE(t.add_namespace("ns1"));
  REQUIRE(t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2"), endpoint("e3")}, std::ref(next)));

  t.forget_endpoints("ns1", {"e2", "e3", "e9"});
  CHECK(states(t.nics("ns1")) == std::vector<std::string>{"nic1=e1"});
  CHECK(t.to_json()["ns1"].size() == 1);
  t.forget_endpoints("nsX", {"e1"}); // unknown namespace: nothing to do
  CHECK_FALSE(t.contains("nsX"));

  // Forgotten endpoints can be added again, with fresh NICs.
  auto again = t.add_endpoints("ns1", {endpoint("e1"), endpoint("e2")}, std::ref(next));
  REQUIRE(again);
  CHECK(nic_ids(*again) == std::vector<std::string>{"nic4=e2"});

  REQUIRE_FALSE(t.add_namespace("ns2"));
  t.forget_namespace("ns1"); // with whatever it holds
  CHECK_FALSE(t.contains("ns1"));
  CHECK(t.nics("ns1").empty());
  CHECK(t.to_json() == nlohmann::json{{"ns2", nlohmann::json::object()}});
  CHECK_FALSE(t.remove_namespace("ns1"));
  CHECK(t.remove_endpoints("ns1", {"e1"}).err().code == errc::netns_not_found);
  REQUIRE_FALSE(t.add_namespace("ns1"));
  CHECK(t.nics("ns1").empty());
}

TEST_CASE("netns: random operations agree with the model", "[netns]") {
  netns_table t;
  std::mt19937 rng(11);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };

  struct model_nic {
    std::string nic_id;
    bool removing = false;
  };
  struct model_namespace {
    std::map<std::string, model_nic> nics; // by endpoint id
    bool removing = false;
  };
  // A NIC removal in flight; `by_namespace` if remove_namespace started it
  // (the namespace's removal ends only after those).
  struct pending_nic {
    std::string ns;
    std::string endpoint_id;
    bool by_namespace;
  };
  std::map<std::string, model_namespace> model;
  std::vector<pending_nic> pending_nics;
  std::vector<std::string> pending_namespaces;
  counter next;
  int expected_nics = 0; // NIC ids the table has asked for

  // How often the interesting paths ran, so that the test cannot pass idly.
  std::map<std::string, int> seen;

  auto take = [&](auto& v, size_t i) {
    auto item = v[i];
    v[i] = v.back();
    v.pop_back();
    return item;
  };

  for (int step = 0; step < 20000; ++step) {
    auto ns = "ns" + std::to_string(pick(4));
    std::vector<network_endpoint> eps;
    std::vector<std::string> ids;
    for (uint32_t i = 0, k = pick(4); i < k; ++i) {
      eps.push_back(endpoint("e" + std::to_string(pick(8))));
      ids.push_back(eps.back().id);
    }
    auto known = model.find(ns);
    switch (pick(9)) {
    case 0: { // add_namespace, and a failed add taken back
      auto err = t.add_namespace(ns);
      REQUIRE(err.code == (known != model.end() ? errc::netns_already_attached : errc::ok));
      if (known == model.end()) {
        if (pick(4) == 0) {
          t.forget_namespace(ns);
          ++seen["forget_namespace"];
        } else {
          model[ns];
        }
      }
      break;
    }
    case 1:
    case 2: { // add_endpoints, and NICs whose add failed taken back
      auto r = t.add_endpoints(ns, eps, std::ref(next));
      bool open = known != model.end() && !known->second.removing;
      REQUIRE(bool(r) == open);
      if (!open) {
        REQUIRE(r.err().code == errc::netns_not_found);
        if (known != model.end()) {
          ++seen["add to removing namespace"];
        }
        break;
      }
      std::vector<std::string> expected;
      for (const auto& id : ids) {
        if (known->second.nics.count(id) == 0) {
          auto nic_id = "nic" + std::to_string(++expected_nics);
          known->second.nics[id] = model_nic{nic_id, false};
          expected.push_back(nic_id + "=" + id);
        }
      }
      REQUIRE(states(*r) == expected);
      REQUIRE(next.n == expected_nics);
      for (size_t i = 0; i < r->size(); ++i) {
        REQUIRE(r->at(i).endpoint.mac_address == endpoint(r->at(i).endpoint.id).mac_address);
      }
      if (!r->empty() && pick(4) == 0) {
        std::vector<std::string> undone{"e9"}; // never recorded: ignored
        for (size_t i = pick(static_cast<uint32_t>(r->size())); i < r->size(); ++i) {
          undone.push_back(r->at(i).endpoint.id);
          known->second.nics.erase(r->at(i).endpoint.id);
        }
        t.forget_endpoints(ns, undone);
        ++seen["forget_endpoints"];
      }
      break;
    }
    case 3: { // remove_endpoints
      auto r = t.remove_endpoints(ns, ids);
      REQUIRE(bool(r) == (known != model.end()));
      if (known == model.end()) {
        REQUIRE(r.err().code == errc::netns_not_found);
        break;
      }
      std::vector<std::string> expected;
      for (const auto& id : ids) {
        auto it = known->second.nics.find(id);
        if (it == known->second.nics.end()) {
          continue;
        }
        if (it->second.removing) {
          ++seen["remove_endpoints skips removing"];
          continue;
        }
        it->second.removing = true;
        expected.push_back(it->second.nic_id + "=" + id + " removing");
        pending_nics.push_back({ns, id, false});
      }
      REQUIRE(states(*r) == expected);
      if (known->second.removing && !expected.empty()) {
        ++seen["remove_endpoints in removing namespace"];
      }
      break;
    }
    case 4: { // remove_namespace
      auto r = t.remove_namespace(ns);
      bool open = known != model.end() && !known->second.removing;
      REQUIRE(r.has_value() == open);
      if (!open) {
        if (known != model.end()) {
          ++seen["remove_namespace while removing"];
        }
        break;
      }
      known->second.removing = true;
      pending_namespaces.push_back(ns);
      std::vector<std::string> expected;
      for (auto& [id, nic] : known->second.nics) {
        if (nic.removing) {
          ++seen["remove_namespace skips removing"];
          continue;
        }
        nic.removing = true;
        expected.push_back(nic.nic_id + "=" + id + " removing");
        pending_nics.push_back({ns, id, true});
      }
      REQUIRE(sorted(states(*r)) == sorted(expected));
      break;
    }
    case 5:
    case 6:
    case 7: { // one NIC removal ends
      if (pending_nics.empty()) {
        break;
      }
      auto p = take(pending_nics, pick(static_cast<uint32_t>(pending_nics.size())));
      auto& nics = model.at(p.ns).nics;
      REQUIRE(nics.at(p.endpoint_id).removing); // the model's own invariant
      if (pick(2) == 0) {
        t.nic_removed(p.ns, p.endpoint_id);
        nics.erase(p.endpoint_id);
        ++seen["nic_removed"];
      } else {
        t.nic_remove_failed(p.ns, p.endpoint_id);
        nics.at(p.endpoint_id).removing = false;
        ++seen["nic_remove_failed"];
      }
      break;
    }
    default: { // one namespace removal ends, after the NIC removals it started
      std::vector<size_t> ready;
      for (size_t i = 0; i < pending_namespaces.size(); ++i) {
        const auto& id = pending_namespaces[i];
        if (std::none_of(pending_nics.begin(), pending_nics.end(),
                         [&](const pending_nic& p) { return p.ns == id && p.by_namespace; })) {
          ready.push_back(i);
        }
      }
      if (ready.empty()) {
        break;
      }
      auto id = take(pending_namespaces, ready[pick(static_cast<uint32_t>(ready.size()))]);
      auto& entry = model.at(id);
      REQUIRE(entry.removing);
      if (pick(2) == 0) {
        t.namespace_removed(id, true);
        model.erase(id);
        // Removals it did not start and that are still in flight have no
        // record left to report to.
        pending_nics.erase(std::remove_if(pending_nics.begin(), pending_nics.end(),
                                          [&](const pending_nic& p) { return p.ns == id; }),
                           pending_nics.end());
        ++seen["namespace_removed(true)"];
      } else {
        t.namespace_removed(id, false);
        entry.removing = false;
        ++seen[entry.nics.empty() ? "namespace_removed(false)"
                                  : "namespace_removed(false) with NICs left"];
      }
    }
    }

    auto expected_json = nlohmann::json::object();
    for (uint32_t i = 0; i < 4; ++i) {
      auto id = "ns" + std::to_string(i);
      auto it = model.find(id);
      REQUIRE(t.contains(id) == (it != model.end()));
      std::vector<std::string> expected;
      if (it != model.end()) {
        auto& ns_json = expected_json[id] = nlohmann::json::object();
        for (const auto& [ep, nic] : it->second.nics) {
          expected.push_back(nic.nic_id + "=" + ep + (nic.removing ? " removing" : ""));
          ns_json[ep] = {{"nic_id", nic.nic_id}, {"mac_address", endpoint(ep).mac_address}};
        }
      }
      REQUIRE(states(t.nics(id)) == expected);
    }
    REQUIRE(t.to_json() == expected_json);
  }

  for (const char* path :
       {"forget_namespace", "forget_endpoints", "add to removing namespace",
        "remove_endpoints skips removing", "remove_endpoints in removing namespace",
        "remove_namespace while removing", "remove_namespace skips removing", "nic_removed",
        "nic_remove_failed", "namespace_removed(true)", "namespace_removed(false)",
        "namespace_removed(false) with NICs left"}) {
    INFO(path);
    CHECK(seen[path] > 10);
  }
}
