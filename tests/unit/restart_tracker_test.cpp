#include <catch2/catch.hpp>

#include "actors/core/restart_tracker.hpp"

using namespace std::chrono_literals;
using uvm::restart_tracker;

TEST_CASE("restart policy never: no restart", "[restart]") {
  restart_tracker t{uvm::restart_policy{}};
  CHECK_FALSE(t.restarts_enabled());
  CHECK_FALSE(t.on_failure(restart_tracker::clock::now()).restart);
}

TEST_CASE("restart policy on-failure: back-off doubles, intensity limit, window", "[restart]") {
  uvm::restart_policy p;
  p.kind = uvm::restart_kind::on_failure;
  p.max_restarts = 3;
  p.window_ms = 1000;
  p.backoff_initial_ms = 100;
  p.backoff_max_ms = 300;
  restart_tracker t{p};
  auto t0 = restart_tracker::clock::now();
  auto d1 = t.on_failure(t0);
  auto d2 = t.on_failure(t0 + 10ms);
  auto d3 = t.on_failure(t0 + 20ms);
  auto d4 = t.on_failure(t0 + 30ms);
  REQUIRE(d1.restart);
  REQUIRE(d2.restart);
  REQUIRE(d3.restart);
  CHECK(d1.delay == 100ms);
  CHECK(d2.delay == 200ms);
  CHECK(d3.delay == 300ms); // capped
  CHECK(d3.attempt == 3);
  CHECK_FALSE(d4.restart); // a fourth within the window: give up
  // Once the window has passed, restarts are allowed again, with the
  // back-off starting over.
  auto d5 = t.on_failure(t0 + 1500ms);
  REQUIRE(d5.restart);
  CHECK(d5.delay == 100ms);
  CHECK(d5.attempt == 1);
}
