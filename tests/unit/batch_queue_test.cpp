// The batching the remote path shares: one flush asked per batch, a full
// batch sent at once, items in their order, nothing lost between the two.
#include <vector>

#include <catch2/catch.hpp>

#include "actors/core/batch_queue.hpp"

namespace {

// What the owner was told to do, in order: "flush" or a sent batch.
struct owner {
  uvm::batch_queue<int> queue;
  std::vector<std::vector<int>> sent;
  int flushes_asked = 0;

  explicit owner(size_t limit) : queue(limit) {}
  void push(int item) {
    queue.push(
        item, [this](std::vector<int> batch) { sent.push_back(std::move(batch)); },
        [this] { ++flushes_asked; });
  }
};

} // namespace

TEST_CASE("a batch queue asks for one flush per batch and hands out its items in order",
          "[batch_queue]") {
  owner o{8};
  o.push(1);
  o.push(2);
  o.push(3);
  CHECK(o.flushes_asked == 1);
  CHECK(o.sent.empty());
  CHECK(o.queue.flush() == std::vector<int>{1, 2, 3});
  CHECK(o.queue.empty());
  // After a flush the next item asks again.
  o.push(4);
  CHECK(o.flushes_asked == 2);
  CHECK(o.queue.flush() == std::vector<int>{4});
  // A flush with nothing queued hands out nothing.
  CHECK(o.queue.flush().empty());
}

TEST_CASE("a full batch leaves at once, and the flush already asked takes what follows",
          "[batch_queue]") {
  owner o{3};
  for (int i = 1; i <= 7; ++i) {
    o.push(i);
  }
  CHECK(o.sent == std::vector<std::vector<int>>{{1, 2, 3}, {4, 5, 6}});
  // The flush asked by 1 is still on its way: no second one.
  CHECK(o.flushes_asked == 1);
  CHECK(o.queue.flush() == std::vector<int>{7});
  o.push(8);
  CHECK(o.flushes_asked == 2);
}
