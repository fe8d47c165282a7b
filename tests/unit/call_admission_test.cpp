#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/core/call_admission.hpp"

using namespace uvm;

TEST_CASE("vm_admission: places up to the limit, then busy naming the call", "[admission]") {
  vm_admission a{"vm1", 2, nullptr};
  CHECK_FALSE(a.admit("add a SCSI disk"));
  CHECK_FALSE(a.admit("add a SCSI disk"));
  auto e = a.admit("add a VPMEM device");
  CHECK(e.code == errc::busy);
  CHECK(e.text ==
        "utility VM vm1 is busy: cannot add a VPMEM device, 2 calls outstanding (limit 2)");
  CHECK(a.outstanding() == 2);
  CHECK(a.refused() == 1);
  a.release();
  CHECK_FALSE(a.admit("add a SCSI disk"));
  CHECK(a.outstanding() == 2);
}

TEST_CASE("vm_admission: the engine's limit spans VMs; a refusal takes no place", "[admission]") {
  auto engine = std::make_shared<engine_admission>(3);
  vm_admission a{"a", 10, engine};
  vm_admission b{"b", 10, engine};
  CHECK_FALSE(a.admit("x"));
  CHECK_FALSE(a.admit("x"));
  CHECK_FALSE(b.admit("x"));
  auto e = b.admit("add a SCSI disk");
  CHECK(e.text == "engine is busy: cannot add a SCSI disk on utility VM b, 3 calls in flight "
                  "(limit 3)");
  CHECK(b.outstanding() == 1);
  CHECK(b.refused() == 1);
  CHECK(engine->in_flight() == 3);
  CHECK(engine->refused() == 1);
  a.release();
  CHECK(engine->in_flight() == 2);
  CHECK_FALSE(b.admit("x"));
}

TEST_CASE("admission_place: given back when its last holder goes", "[admission]") {
  auto a = std::make_shared<vm_admission>("vm1", 1, nullptr);
  error why;
  auto place = admission_place::take(a, "create a process", why);
  REQUIRE(place);
  CHECK_FALSE(why);
  auto copy = place;
  CHECK_FALSE(admission_place::take(a, "create a process", why));
  CHECK(why.code == errc::busy);
  place.reset();
  CHECK(a->outstanding() == 1);
  copy.reset();
  CHECK(a->outstanding() == 0);
}

TEST_CASE("vm_admission: racing callers never exceed the limit", "[admission]") {
  auto engine = std::make_shared<engine_admission>(1000000);
  vm_admission a{"vm1", 100, engine};
  std::atomic<int> admitted{0};
  std::atomic<bool> exceeded{false}; // Catch's assertions are not thread-safe
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        if (!a.admit("x")) {
          if (admitted.fetch_add(1) >= 100) {
            exceeded = true;
          }
          admitted.fetch_sub(1);
          a.release();
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK_FALSE(exceeded);
  CHECK(a.outstanding() == 0);
  CHECK(engine->in_flight() == 0);
}
