#include <catch2/catch.hpp>

#include "actors/core/deadline_table.hpp"

using uvm::deadline_table;
using namespace std::chrono_literals;

TEST_CASE("deadline_table: a call expires once, unless settled first", "[deadline_table]") {
  deadline_table t;
  auto t0 = deadline_table::clock::now();
  int expired_a = 0;
  int expired_b = 0;
  auto a = t.add(t0 + 10ms, [&] { ++expired_a; });
  auto b = t.add(t0 + 5ms, [&] { ++expired_b; });
  CHECK(t.next_due() == t0 + 5ms);
  CHECK(t.expire(t0 + 1ms).empty());
  auto due = t.expire(t0 + 5ms);
  REQUIRE(due.size() == 1);
  due[0]();
  CHECK(expired_b == 1);
  CHECK_FALSE(t.settle(b)); // its answer came too late: dropped
  CHECK(t.settle(a));
  CHECK_FALSE(t.settle(a));
  CHECK(t.expire(t0 + 1h).empty());
  CHECK(expired_a == 0);
  CHECK_FALSE(t.next_due());
  CHECK(t.size() == 0);
}

TEST_CASE("deadline_table: settled calls do not pile up behind a long one", "[deadline_table]") {
  deadline_table t;
  auto t0 = deadline_table::clock::now();
  // One call that stays pending the whole time, a million that are
  // answered: the table holds the pending ones, not the history.
  auto slow = t.add(t0 + 1h, [] {});
  for (int i = 0; i < 1000000; ++i) {
    auto id = t.add(t0 + 5min, [] {});
    REQUIRE(t.settle(id));
  }
  CHECK(t.size() == 1);
  CHECK(t.next_due() == t0 + 1h);
  CHECK(t.settle(slow));
}

TEST_CASE("deadline_table: expiry follows the deadlines, not the order of adding",
          "[deadline_table]") {
  deadline_table t;
  auto t0 = deadline_table::clock::now();
  std::vector<int> order;
  for (int i : {3, 1, 2}) {
    t.add(t0 + std::chrono::milliseconds(i), [&order, i] { order.push_back(i); });
  }
  for (auto& f : t.expire(t0 + 3ms)) {
    f();
  }
  CHECK(order == std::vector<int>{1, 2, 3});
}
