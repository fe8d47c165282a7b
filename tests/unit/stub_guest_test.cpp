// uvm::stub_guest, the guest "stub" the device children of a VM call from
// their own threads: concurrent requests each get their answer, the frame
// log records every exchange once, and an injected fault fails exactly one
// request with the host bridge's wording.
#include <algorithm>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/core/stub_guest.hpp"

namespace {

std::string vpmem_request(const char* type, const std::string& mount) {
  return nlohmann::json{
      {"RequestType", type}, {"ResourceType", "VPMemDevice"}, {"Settings", {{"MountPath", mount}}}}
      .dump();
}

} // namespace

TEST_CASE("the guest stub answers callers on several threads at once and logs each exchange",
          "[stub_guest]") {
  auto log = std::make_shared<uvm::bridge::frame_log>();
  std::mutex m;
  std::vector<nlohmann::json> lines;
  log->set([&](const std::string& line) {
    std::lock_guard<std::mutex> lock{m};
    lines.push_back(nlohmann::json::parse(line));
  });
  uvm::stub_guest guest{"vm1", log};
  constexpr int threads = 4;
  constexpr int rounds = 200;
  std::vector<int> failures(threads, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        auto mount = "/run/layers/t" + std::to_string(t) + "-" + std::to_string(i);
        if (guest.modify_settings(vpmem_request("Add", mount), "")) {
          ++failures[static_cast<size_t>(t)];
        }
        if (guest.modify_settings(vpmem_request("Remove", mount), "")) {
          ++failures[static_cast<size_t>(t)];
        }
        (void)guest.mounts();
      }
    });
  }
  for (auto& c : callers) {
    c.join();
  }
  CHECK(std::count(failures.begin(), failures.end(), 0) == threads);
  CHECK(guest.mounts().empty());

  // Every request once as sent and once as answered, ids 0..n-1.
  const size_t requests = threads * rounds * 2;
  REQUIRE(lines.size() == 2 * requests);
  std::set<uint64_t> sent;
  std::set<uint64_t> answered;
  for (const auto& l : lines) {
    CHECK(l["vm"] == "vm1");
    (l["direction"] == "send" ? sent : answered).insert(l["id"].get<uint64_t>());
  }
  CHECK(sent.size() == requests);
  CHECK(answered == sent);
  CHECK(*sent.rbegin() == requests - 1);
}

TEST_CASE("an injected guest fault fails one request with the bridge's words", "[stub_guest]") {
  uvm::stub_guest guest{"vm1", nullptr};
  guest.fail_next(1);
  auto e = guest.modify_settings(vpmem_request("Add", "/run/layers/p0"), "");
  CHECK(e.text == "guest RPC failure: injected guest fault");
  CHECK(guest.mounts().empty());
  CHECK_FALSE(guest.modify_settings(vpmem_request("Add", "/run/layers/p0"), ""));
  // The guest's own refusal comes back in the same wording.
  auto again = guest.modify_settings(vpmem_request("Add", "/run/layers/p0"), "");
  CHECK(again.text.rfind("guest RPC failure: ", 0) == 0);
  CHECK(guest.mounts().size() == 1);
}
