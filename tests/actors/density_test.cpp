// Many VMs in one engine: the engine's threads and descriptors do not grow
// with the fleet, every VM's guest answers real bridge RPCs, and closing
// the fleet gives everything back. (Rates are uvm-bench density's job.)
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "bench/core/process_stats.hpp"
#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using namespace std::chrono_literals;
using uvm::bench::describe;
using uvm::bench::open_descriptors;
using uvm::bench::settled_descriptors;
using uvm::bench::thread_count;

namespace {

// Runs `count` asynchronous calls, at most `window` at once; `issue(i,
// done)` starts call i, which reports through done(ok) exactly once.
template <class Issue>
size_t run_windowed(size_t count, size_t window, Issue issue) {
  std::mutex m;
  std::condition_variable cv;
  size_t in_flight = 0;
  size_t failures = 0;
  for (size_t i = 0; i < count; ++i) {
    {
      std::unique_lock<std::mutex> lock{m};
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    issue(i, [&](bool ok) {
      std::lock_guard<std::mutex> lock{m};
      --in_flight;
      failures += ok ? 0 : 1;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock{m};
  cv.wait(lock, [&] { return in_flight == 0; });
  return failures;
}

} // namespace

TEST_CASE("10,000 VMs with in-process guests: threads and descriptors stay bounded, and closing "
          "gives everything back",
          "[engine][density]") {
  constexpr size_t vms = 10000;
  constexpr size_t window = 256;
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  cfg.call_timeout = std::chrono::seconds(60);
  REQUIRE(cfg.guest == "in-process");
  uvm::engine eng{cfg};
  auto threads_before = thread_count();
  auto fds_before = settled_descriptors();
  INFO("descriptors of the idle engine: " << describe(fds_before));

  std::vector<uvm::utility_vm> fleet(vms);
  auto failed = run_windowed(vms, window, [&](size_t i, auto done) {
    eng.create_lcow(host.lcow("d" + std::to_string(i)), {},
                    [&fleet, i, done](uvm::result<uvm::utility_vm> vm) {
                      if (vm) {
                        fleet[i] = *vm;
                      }
                      done(static_cast<bool>(vm));
                    });
  });
  REQUIRE(failed == 0);
  failed = run_windowed(vms, window, [&](size_t i, auto done) {
    fleet[i].start([done](const uvm::error& e) { done(!e); });
  });
  REQUIRE(failed == 0);
  // While the fleet is up: every guest negotiated (a bridge RPC), a stats
  // call on every VM, and a disk mounted in the guest of every 100th.
  std::atomic<size_t> not_negotiated{0};
  failed = run_windowed(vms, window, [&](size_t i, auto done) {
    if (i % 100 == 0) {
      uvm::scsi_add_request req;
      req.host_path = "/density/disk-" + std::to_string(i) + ".vhdx";
      req.uvm_path = "/run/mounts/m" + std::to_string(i);
      fleet[i].add_scsi(std::move(req),
                        [done](uvm::result<uvm::scsi_mount> r) { done(static_cast<bool>(r)); });
      return;
    }
    fleet[i].request_async<uvm::vm_stats>(
        [done](uvm::result<uvm::vm_stats> r) { done(static_cast<bool>(r)); }, uvm::stats_atom_v,
        std::string{});
  });
  REQUIRE(failed == 0);
  for (size_t i = 0; i < vms; i += 997) {
    auto view = fleet[i].device_view();
    REQUIRE(view);
    auto bridge = nlohmann::json::parse(*view)["gcs_bridge"];
    not_negotiated += bridge.value("negotiated", false) ? 0 : 1;
  }
  CHECK(not_negotiated == 0);
  auto threads_peak = thread_count();
  auto fds_peak = open_descriptors();
  CHECK(threads_peak <= 16);
  CHECK(threads_peak == threads_before);
  INFO("descriptors at the peak: " << describe(fds_peak));
  CHECK(fds_peak.size() <= fds_before.size() + 8);
  auto listed = eng.list();
  REQUIRE(listed);
  CHECK(listed->size() == vms);

  failed = run_windowed(vms, window, [&](size_t i, auto done) {
    fleet[i].close([done](const uvm::error& e) { done(!e); });
  });
  REQUIRE(failed == 0);
  fleet.clear();
  // Everything given back: the registry is empty, the threads and
  // descriptors are those of an idle engine.
  REQUIRE(uvm::test::eventually([&] {
    auto l = eng.list();
    return l && l->empty();
  }));
  CHECK(thread_count() == threads_before);
  auto fds_after = settled_descriptors();
  INFO("descriptors after closing: " << describe(fds_after));
  CHECK(fds_after == fds_before);
}
