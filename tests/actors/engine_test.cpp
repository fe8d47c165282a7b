// The engine on a real actor system and the simulated HCS with real timers:
// lifecycle calls, errors, the event bus, unexpected exits and restarts.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/event_bus.hpp"
#include "engine/engine.hpp"
#include "tests/actors/bus_collector.hpp"
#include "tests/actors/fixtures.hpp"

using namespace std::chrono_literals;
using uvm::test::collector;
using uvm::test::eventually;
using uvm::test::host_dir;

namespace {

uvm::engine_config test_config() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  // A hung call fails the test within 20 s: the bridge's deadline, then
  // the caller's (engine::caller_wait).
  cfg.bridge_rpc_timeout = std::chrono::seconds(15);
  cfg.cleanup_margin = std::chrono::seconds(5);
  cfg.call_timeout = std::chrono::seconds(20);
  return cfg;
}

} // namespace

TEST_CASE("an LCOW VM goes through create, start, terminate, wait, close", "[engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.create_lcow(host.lcow("lcow-life"));
  REQUIRE(vm);
  CHECK(vm->id() == "lcow-life");
  CHECK(vm->os() == "linux");
  CHECK_FALSE(vm->is_oci());
  CHECK(vm->processor_count() == 2);
  CHECK(vm->owner() == "uvmtest");
  CHECK(vm->exit_error().text == "container not exited");

  REQUIRE_FALSE(vm->start());
  auto info = vm->info();
  REQUIRE(info);
  CHECK(info->state == uvm::lifecycle_state::running);
  CHECK_FALSE(info->runtime_id.empty());
  // Start is accepted once.
  CHECK(vm->start().code == uvm::errc::invalid_state);

  auto stats = vm->stats();
  REQUIRE(stats);
  CHECK(stats->has_vm_memory);
  CHECK(*vm->container_counter() == 1);
  CHECK(*vm->container_counter() == 2);
  CHECK(*vm->uvm_mount_counter() == 1);

  REQUIRE_FALSE(vm->terminate());
  REQUIRE_FALSE(vm->wait());
  CHECK_FALSE(vm->exit_error());
  CHECK(vm->info()->state == uvm::lifecycle_state::stopped);
  // Terminate of a stopped system is a success (already stopped).
  CHECK_FALSE(vm->terminate());
  REQUIRE_FALSE(vm->close());
  CHECK_FALSE(vm->close());
  CHECK(eng.list()->empty());
  CHECK(eng.find("lcow-life").err().code == uvm::errc::not_found);
}

TEST_CASE("device events reach the bus's members, and only while it has some", "[engine][bus]") {
  host_dir host;
  uvm::engine eng{test_config()};
  // Without members there is nobody to build events for.
  CHECK_FALSE(uvm::has_listeners(eng.events()));
  auto vm = eng.create_lcow(host.lcow("bus-devices"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(vm->add_scsi("/d/quiet.vhdx", "/m/quiet", false, uvm::vm_access_type::noop));
  REQUIRE_FALSE(vm->remove_scsi("/d/quiet.vhdx"));
  {
    collector events{eng};
    CHECK(uvm::has_listeners(eng.events()));
    auto m = vm->add_scsi("/d/heard.vhdx", "/m/heard", false, uvm::vm_access_type::noop);
    REQUIRE(m);
    REQUIRE_FALSE(vm->remove_scsi("/d/heard.vhdx"));
    REQUIRE(eventually([&] {
      std::lock_guard<std::mutex> lock{events->m};
      return events->devices.size() >= 2;
    }));
    std::lock_guard<std::mutex> lock{events->m};
    // Only the calls made while the collector listened are on the bus.
    REQUIRE(events->devices.size() == 2);
    const auto& added = events->devices[0];
    CHECK(added.vm_id == "bus-devices");
    CHECK(added.kind == "scsi");
    CHECK(added.action == "added");
    CHECK(added.host_path == "/d/heard.vhdx");
    CHECK(added.slot == std::to_string(m->controller) + ":" + std::to_string(m->lun));
    CHECK(events->devices[1].action == "removed");
    CHECK(events->devices[1].slot == added.slot);
  }
  // The collector ended, and with it its membership.
  CHECK(eventually([&] { return !uvm::has_listeners(eng.events()); }));
  REQUIRE_FALSE(vm->terminate());
  REQUIRE_FALSE(vm->close());
}

TEST_CASE("the simulator receives the documents the plan built", "[engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  std::vector<std::string> calls;
  std::mutex m;
  eng.sim().set_call_log([&](const std::string& line) {
    std::lock_guard<std::mutex> lock{m};
    calls.push_back(line);
  });
  auto vm = eng.create_wcow(host.wcow("wcow-doc"));
  REQUIRE(vm);
  CHECK(vm->os() == "windows");
  REQUIRE_FALSE(vm->start());
  auto oracle = eng.sim().oracle();
  INFO(oracle.dump());
  // The scratch disk the document put at SCSI 0:0 is in the simulator's
  // model, and in the engine's SCSI table.
  auto view = nlohmann::json::parse(*vm->device_view());
  CHECK(view["scsi"]["0:0"]["host_path"] == host.path("scratch") + "/sandbox.vhdx");
  REQUIRE_FALSE(vm->close());
  eng.sim().set_call_log(nullptr);
  std::lock_guard<std::mutex> lock{m};
  REQUIRE(calls.size() >= 4);
  auto first = nlohmann::json::parse(calls[0]);
  CHECK(first["call"] == "create");
  CHECK(first["id"] == "wcow-doc");
  CHECK(first["document"]["VirtualMachine"]["Devices"]["Scsi"]["0"]["Attachments"]["0"]["Path"] ==
        host.path("scratch") + "/sandbox.vhdx");
}

TEST_CASE("create errors carry the seed's texts", "[engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto o = host.lcow("bad");
  o.kernel_file = "nope";
  auto vm = eng.create_lcow(o);
  REQUIRE_FALSE(vm);
  CHECK(vm.err().text == "kernel: '" + host.path("LinuxBootFiles") + "/nope' not found");

  auto o2 = host.lcow("bad2");
  o2.vpmem_device_count = 129;
  CHECK(eng.create_lcow(o2).err().text == "vpmem device count cannot be greater than 128");

  auto w = host.wcow("bad3");
  w.layer_folders.resize(1);
  CHECK(eng.create_wcow(w).err().text == "at least 2 LayerFolders must be supplied");

  REQUIRE(eng.create_lcow(host.lcow("dup")));
  auto again = eng.create_lcow(host.lcow("dup"));
  REQUIRE_FALSE(again);
  CHECK(again.err().code == uvm::errc::already_exists);
  CHECK(eng.list()->size() == 1);
}

TEST_CASE("an HCS failure is reported with hcsshim's SystemError text", "[engine]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.create_lcow(host.lcow("fails-start"));
  REQUIRE(vm);
  eng.sim().fail_next(uvm::hcs::call_kind::start, 1, "fails-start");
  auto e = vm->start();
  CHECK(e.code == uvm::errc::hcs_failure);
  CHECK(e.text == "hcsshim::System::Start fails-start: injected fault");
  // The failed start left the VM created: it can be started again.
  CHECK_FALSE(vm->start());
  CHECK_FALSE(vm->close());
}

TEST_CASE("an unexpected exit fails every pending call at once and publishes one event",
          "[engine][exit]") {
  host_dir host;
  uvm::engine eng{test_config()};
  collector events{eng};
  auto vm = eng.create_lcow(host.lcow("crashy"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  caf::scoped_actor self{eng.system()};
  std::vector<caf::actor_addr> kids;
  self->request(vm->actor(), caf::infinite, uvm::children_atom_v)
      .receive([&](std::vector<caf::actor_addr>& v) { kids = std::move(v); }, [](caf::error&) {});
  REQUIRE(kids.size() == 7);
  for (auto& k : kids) {
    self->monitor(k);
  }

  // Ten slow calls in flight (5 s each), then the guest crashes.
  eng.sim().set_latency(uvm::hcs::call_kind::properties, 5s, 5s);
  std::mutex m;
  std::condition_variable cv;
  std::vector<uvm::error> failures;
  std::vector<std::chrono::steady_clock::time_point> when;
  for (int i = 0; i < 10; ++i) {
    eng.dispatch([&, actor = vm->actor()](caf::event_based_actor* s) {
      s->request(actor, caf::infinite, uvm::stats_atom_v, std::string{})
          .then([&](uvm::vm_stats&) { FAIL("a stats call survived the exit"); },
                [&](caf::error& e) {
                  std::lock_guard<std::mutex> lock{m};
                  failures.push_back(uvm::from_caf_error(e));
                  when.push_back(std::chrono::steady_clock::now());
                  cv.notify_all();
                });
    });
  }
  REQUIRE(
      eventually([&] { return eng.sim().calls_received(uvm::hcs::call_kind::properties) >= 11; }));
  auto crash_at = std::chrono::steady_clock::now();
  eng.sim().crash("crashy");
  {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 2s, [&] { return failures.size() == 10; }));
  }
  for (size_t i = 0; i < failures.size(); ++i) {
    CHECK(failures[i].code == uvm::errc::vm_exited);
    CHECK(failures[i].text ==
          "utility VM crashy exited unexpectedly: hcsshim::System::waitBackground crashy: The "
          "virtual machine or container exited unexpectedly.");
    CHECK(when[i] - crash_at < 100ms);
  }
  // The children are gone.
  size_t downs = 0;
  for (size_t i = 0; i < kids.size(); ++i) {
    self->receive([&](caf::down_msg&) { ++downs; }, caf::after(2s) >> [] {});
  }
  CHECK(downs == kids.size());
  std::this_thread::sleep_for(100ms);
  CHECK(events->exited_for("crashy") == 1);
  {
    std::lock_guard<std::mutex> lock{events->m};
    auto& ev = events->exited.back();
    CHECK(ev.unexpected);
    CHECK(ev.exit_error ==
          "hcsshim::System::waitBackground crashy: The virtual machine or container exited "
          "unexpectedly.");
  }
  // hcsshim semantics: Wait returns nil, ExitError names the exit, and the
  // default policy (never) leaves the VM exited.
  CHECK_FALSE(vm->wait());
  CHECK(vm->exit_error().text ==
        "hcsshim::System::waitBackground crashy: The virtual machine or container exited "
        "unexpectedly.");
  CHECK(vm->info()->state == uvm::lifecycle_state::exited);
  CHECK(vm->stats().err().code == uvm::errc::vm_exited);
  auto exits = eng.exits();
  REQUIRE(exits->size() == 1);
  CHECK((*exits)[0].action == "none");
  CHECK_FALSE(vm->close());
}

TEST_CASE("restart policy on-failure re-creates and restarts the VM", "[engine][restart]") {
  host_dir host;
  uvm::engine eng{test_config()};
  collector events{eng};
  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  policy.max_restarts = 2;
  policy.backoff_initial_ms = 20;
  auto vm = eng.create_lcow(host.lcow("phoenix"), policy);
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());

  for (uint32_t round = 1; round <= 2; ++round) {
    eng.sim().crash("phoenix");
    REQUIRE(eventually([&] {
      auto info = vm->info();
      return info && info->restarts == round && info->state == uvm::lifecycle_state::running;
    }));
    // The re-created system is in the simulator, running.
    CHECK(eng.sim().oracle()["phoenix"]["state"] == "running");
    caf::scoped_actor self{eng.system()};
    self->request(vm->actor(), caf::infinite, uvm::children_atom_v)
        .receive([](std::vector<caf::actor_addr>& v) { CHECK(v.size() == 7); },
                 [](caf::error&) { FAIL("no children"); });
  }
  {
    std::lock_guard<std::mutex> lock{events->m};
    REQUIRE(events->restarts.size() == 2);
    CHECK(events->restarts[0].action == "restart");
    CHECK(events->restarts[0].delay_ms == 20);
    CHECK(events->restarts[1].delay_ms == 40); // exponential back-off
  }
  // A third exit within the window exceeds max_restarts: the supervisor
  // gives up and the VM stays exited.
  eng.sim().crash("phoenix");
  REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> lock{events->m};
    return events->restarts.size() == 3;
  }));
  {
    std::lock_guard<std::mutex> lock{events->m};
    CHECK(events->restarts[2].action == "gave-up");
  }
  std::this_thread::sleep_for(100ms);
  CHECK(vm->info()->state == uvm::lifecycle_state::exited);
  CHECK(events->exited_for("phoenix") == 3);
  CHECK_FALSE(vm->close());
}

TEST_CASE("the asynchronous API creates and starts many VMs concurrently", "[engine][async]") {
  host_dir host;
  uvm::engine eng{test_config()};
  eng.sim().set_latency(uvm::hcs::call_kind::start, 200ms, 200ms);
  const int n = 20;
  std::mutex m;
  std::condition_variable cv;
  std::vector<uvm::utility_vm> vms;
  int done = 0;
  for (int i = 0; i < n; ++i) {
    eng.create_lcow(host.lcow(), {}, [&](uvm::result<uvm::utility_vm> vm) {
      REQUIRE(vm);
      std::lock_guard<std::mutex> lock{m};
      vms.push_back(*vm);
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return done == n; }));
  }
  auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> started{0};
  for (auto& vm : vms) {
    vm.start([&](const uvm::error& e) {
      CHECK_FALSE(e);
      ++started;
    });
  }
  REQUIRE(eventually([&] { return started == n; }));
  // 20 starts of 200 ms each overlap: nothing serializes them.
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  for (auto& vm : vms) {
    CHECK_FALSE(vm.close());
  }
  CHECK(eng.list()->empty());
}

TEST_CASE("every VM call has an asynchronous form through one mechanism", "[engine][async]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.create_lcow(host.lcow("async-any"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  std::mutex m;
  std::condition_variable cv;
  std::optional<uvm::result<caf::ok_atom>> added;
  std::optional<uvm::result<caf::ok_atom>> again;
  std::optional<uvm::result<uvm::vm_info>> info;
  // Calls without a named asynchronous form, and their errors.
  vm->request_async<caf::ok_atom>(
      [&](uvm::result<caf::ok_atom> r) {
        std::lock_guard<std::mutex> lock{m};
        added.emplace(std::move(r));
        cv.notify_all();
      },
      uvm::add_netns_atom_v, std::string{"ns1"}, std::string{});
  {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return added.has_value(); }));
  }
  vm->request_async<caf::ok_atom>(
      [&](uvm::result<caf::ok_atom> r) {
        std::lock_guard<std::mutex> lock{m};
        again.emplace(std::move(r));
        cv.notify_all();
      },
      uvm::add_netns_atom_v, std::string{"ns1"}, std::string{});
  vm->request_async<uvm::vm_info>(
      [&](uvm::result<uvm::vm_info> r) {
        std::lock_guard<std::mutex> lock{m};
        info.emplace(std::move(r));
        cv.notify_all();
      },
      uvm::info_atom_v);
  {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return again.has_value() && info.has_value(); }));
  }
  CHECK(*added);
  REQUIRE_FALSE(*again);
  CHECK(again->err().text == "network namespace already added");
  REQUIRE(*info);
  CHECK((*info)->state == uvm::lifecycle_state::running);
  CHECK_FALSE(vm->close());
}

TEST_CASE("the supervisor keeps the most recent exits, oldest first", "[engine]") {
  host_dir host;
  auto cfg = test_config();
  cfg.exit_history = 2;
  uvm::engine eng{cfg};
  for (const char* id : {"h1", "h2", "h3"}) {
    auto vm = eng.create_lcow(host.lcow(id));
    REQUIRE(vm);
    REQUIRE_FALSE(vm->start());
    REQUIRE_FALSE(vm->close());
  }
  // A close answers before the supervisor has filed the exit.
  uvm::result<std::vector<uvm::exit_record>> exits = eng.exits();
  REQUIRE(eventually([&] {
    exits = eng.exits();
    return exits && !exits->empty() && exits->back().vm_id == "h3";
  }));
  REQUIRE(exits->size() == 2);
  CHECK((*exits)[0].vm_id == "h2");
  CHECK((*exits)[1].vm_id == "h3");
}
