// The concurrent fault storm (bench/storm/storm.hpp) at CI size: 100 VMs,
// 64 callers, 1% HCS and guest faults, a crash every 2000 operations,
// random deadlines; quiescent checks against the simulator's oracle and
// the guest's mounts; no leaked slots, threads, descriptors or actors.
// `uvm-bench storm` runs the same storm at any size.
//
// UVM_STORM_OPS sets the number of operations (all callers together).
#include <cstdlib>

#include <catch2/catch.hpp>

#include "bench/storm/storm.hpp"
#include "tests/actors/fixtures.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UVM_STORM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UVM_STORM_SANITIZED 1
#endif
#endif

namespace {

uint64_t storm_ops() {
  const char* env = std::getenv("UVM_STORM_OPS");
  if (env != nullptr && std::atoll(env) > 0) {
    return static_cast<uint64_t>(std::atoll(env));
  }
#ifdef UVM_STORM_SANITIZED
  return 10000; // about ten times slower: well under the two-minute limit
#else
  return 100000; // about 35 s on two idle cores
#endif
}

} // namespace

TEST_CASE("concurrent fault storm: 100 VMs, 64 callers, faults, deadlines and crashes",
          "[engine][storm]") {
  uvm::storm::options o;
  o.host = uvm::test::test_host();
  o.ops = storm_ops();
  auto r = uvm::storm::run(o);
  WARN(r.summary());
  CHECK(r.failure.empty());
  CHECK(r.ops == o.ops);
  CHECK(r.mismatches == 0);
  CHECK(r.unexpected == 0);
  CHECK(r.crashes == r.expected_crashes); // a tiny UVM_STORM_OPS has none
  CHECK(r.late_kept == 0);
  CHECK(r.threads_back);
  CHECK(r.fds_back);
  CHECK(r.actors_back);
  CHECK(r.clean());
}
