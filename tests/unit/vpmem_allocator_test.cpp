// The per-device allocator of packed VPMEM layers: page alignment, lowest
// offset first, reuse of freed gaps, the device size and the mapping limit.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>

#include "actors/core/vpmem_allocator.hpp"

using uvm::vpmem_allocator;

namespace {

constexpr uint64_t page = vpmem_allocator::page_size;
constexpr uint64_t mib = 1024 * 1024;

uint64_t must(std::optional<uint64_t> offset) {
  REQUIRE(offset);
  return *offset;
}

} // namespace

TEST_CASE("vpmem allocator: sizes round up to whole pages", "[vpmem][allocator]") {
  CHECK(vpmem_allocator::page_align(0) == 0);
  CHECK(vpmem_allocator::page_align(1) == page);
  CHECK(vpmem_allocator::page_align(page) == page);
  CHECK(vpmem_allocator::page_align(page + 1) == 2 * page);
  vpmem_allocator a{64 * mib};
  CHECK(must(a.allocate(1)) == 0);
  CHECK(must(a.allocate(3 * page + 5)) == page);
  CHECK(must(a.allocate(0)) == 5 * page); // an empty layer still takes a page
  CHECK(a.ranges() == std::map<uint64_t, uint64_t>{{0, page}, {page, 4 * page}, {5 * page, page}});
}

TEST_CASE("vpmem allocator: the lowest gap that fits is used again", "[vpmem][allocator]") {
  vpmem_allocator a{16 * mib};
  CHECK(must(a.allocate(2 * mib)) == 0);
  CHECK(must(a.allocate(mib)) == 2 * mib);
  CHECK(must(a.allocate(4 * mib)) == 3 * mib);
  REQUIRE(a.release(0));
  CHECK_FALSE(a.release(0));
  CHECK_FALSE(a.release(page)); // not the start of a range
  // 3 MiB does not fit the 2 MiB hole; it goes after the last range.
  CHECK(must(a.allocate(3 * mib)) == 7 * mib);
  CHECK(must(a.allocate(mib)) == 0);
  CHECK(must(a.allocate(mib)) == mib);
  CHECK(a.count() == 5);
}

TEST_CASE("vpmem allocator: the device size bounds every range", "[vpmem][allocator]") {
  vpmem_allocator a{8 * mib};
  CHECK_FALSE(a.allocate(8 * mib + 1));
  CHECK(must(a.allocate(6 * mib)) == 0);
  CHECK_FALSE(a.allocate(2 * mib + 1));
  CHECK(must(a.allocate(2 * mib)) == 6 * mib);
  CHECK_FALSE(a.allocate(1));
  CHECK_FALSE(a.allocate(UINT64_MAX)); // rounding up would wrap
  CHECK(a.count() == 2);
}

TEST_CASE("vpmem allocator: at most max_mappings ranges, 1024 by default", "[vpmem][allocator]") {
  vpmem_allocator a{4 * 1024 * page};
  for (uint32_t i = 0; i < 1024; ++i) {
    CHECK(must(a.allocate(page)) == i * page);
  }
  CHECK_FALSE(a.allocate(page)); // room is left, but not a mapping
  REQUIRE(a.release(7 * page));
  CHECK(must(a.allocate(page)) == 7 * page);

  vpmem_allocator small{mib, 2};
  CHECK(small.allocate(page));
  CHECK(small.allocate(page));
  CHECK_FALSE(small.allocate(page));
}
