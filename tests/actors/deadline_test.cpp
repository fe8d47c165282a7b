// Callers' deadlines (utility_vm::request_by and the asynchronous forms'
// `due`): past it a call fails at once with errc::deadline_exceeded, and a
// call that succeeds afterwards is released again, so no slot is left
// attached without a holder: the engine's view and the simulated HCS agree.
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using namespace std::chrono_literals;
using uvm::test::eventually;

namespace {

// The answers of many asynchronous calls, with when each came.
struct answers {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<uvm::error, std::chrono::steady_clock::time_point>> got;

  template <class T>
  std::function<void(uvm::result<T>)> add() {
    return [this](uvm::result<T> r) {
      std::lock_guard<std::mutex> lock{m};
      got.emplace_back(r ? uvm::error{} : r.err(), std::chrono::steady_clock::now());
      cv.notify_all();
    };
  }
  std::function<void(const uvm::error&)> add_error() {
    return [this](const uvm::error& e) {
      std::lock_guard<std::mutex> lock{m};
      got.emplace_back(e, std::chrono::steady_clock::now());
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock{m};
    return cv.wait_for(lock, limit, [&] { return got.size() >= n; });
  }
};

// The embedded default: the simulated HCS and the in-process guest.
uvm::engine_config sim_config() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  return cfg;
}

std::string make_file(const uvm::test::host_dir& host, const std::string& rel) {
  auto path = host.path(rel);
  std::ofstream(path) << "layer";
  return path;
}

} // namespace

TEST_CASE("deadlines that pass during slow attaches: deadline exceeded at once, late attaches "
          "released again, no slot leaks",
          "[engine][deadline]") {
  uvm::test::host_dir host;
  uvm::engine eng{sim_config()};
  auto vm = eng.create_lcow(host.lcow("slow"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  std::filesystem::create_directories(host.path("share"));

  eng.sim().hold(uvm::hcs::call_kind::modify, true);
  // A caller without a deadline shares one disk with late callers: it
  // must keep exactly its own reference.
  answers holder;
  vm->add_scsi({"/d/shared.vhdx", "", false, uvm::vm_access_type::noop, false, ""},
               holder.add<uvm::scsi_mount>());

  answers late;
  auto due = std::chrono::steady_clock::now() + 200ms;
  size_t calls = 0;
  for (int i = 0; i < 20; ++i, ++calls) {
    vm->add_scsi({"/d/late" + std::to_string(i) + ".vhdx", "/run/mounts/late" + std::to_string(i),
                  false, uvm::vm_access_type::noop, false, ""},
                 late.add<uvm::scsi_mount>(), due);
  }
  for (int i = 0; i < 5; ++i, ++calls) {
    vm->add_scsi({"/d/shared.vhdx", "", false, uvm::vm_access_type::noop, false, ""},
                 late.add<uvm::scsi_mount>(), due);
  }
  for (int i = 0; i < 3; ++i, ++calls) {
    vm->request_by<std::string>(due, late.add<std::string>(), uvm::add_vpmem_atom_v,
                                make_file(host, "layer" + std::to_string(i) + ".vhd"),
                                std::string{});
  }
  for (int i = 0; i < 3; ++i, ++calls) {
    uvm::plan9_add_request share{
        host.path("share"), "/run/mounts/p" + std::to_string(i), true, false, {}, ""};
    vm->request_by<uvm::plan9_share_handle>(due, late.add<uvm::plan9_share_handle>(),
                                            uvm::add_plan9_atom_v, share);
  }

  // Every late caller hears "deadline exceeded" at its deadline, while
  // the attaches are still held.
  REQUIRE(late.wait_for(calls, 10s));
  {
    std::lock_guard<std::mutex> lock{late.m};
    for (const auto& [e, when] : late.got) {
      INFO(e.text);
      CHECK(e.code == uvm::errc::deadline_exceeded);
      CHECK(e.text.rfind("deadline exceeded: add_", 0) == 0);
      CHECK(e.text.find(" on utility VM slow") != std::string::npos);
      CHECK(when >= due);
      CHECK(when - due < 1s);
    }
  }
  CHECK(holder.got.empty());
  CHECK(eng.late_replies().undone == 0);

  eng.sim().hold(uvm::hcs::call_kind::modify, false);
  REQUIRE(holder.wait_for(1, 10s));
  CHECK(holder.got[0].first.code == uvm::errc::ok);
  REQUIRE(eventually([&] { return eng.late_replies().undone == calls; }, 10s));
  CHECK(eng.late_replies().kept == 0);

  // Released again: the simulated HCS holds only the holder's disk, and
  // the engine agrees, with one reference on it.
  REQUIRE(eventually([&] {
    auto o = eng.sim().oracle()["slow"];
    return o["scsi"].size() == 1 && o["vpmem"].empty() && o["plan9"].empty();
  }));
  auto oracle = eng.sim().oracle()["slow"];
  INFO(oracle.dump());
  INFO(*vm->device_view());
  CHECK(oracle["scsi"].dump().find("shared.vhdx") != std::string::npos);
  for (int i = 0; i < 20; ++i) {
    CHECK(vm->get_scsi_uvm_path("/d/late" + std::to_string(i) + ".vhdx").err().code ==
          uvm::errc::not_attached);
  }
  CHECK_FALSE(vm->remove_scsi("/d/shared.vhdx"));
  CHECK(vm->remove_scsi("/d/shared.vhdx").code == uvm::errc::not_attached);
  CHECK(eng.sim().oracle()["slow"]["scsi"].empty());

  // The freed places serve new callers.
  for (int i = 0; i < 20; ++i) {
    CHECK(vm->add_scsi("/d/after" + std::to_string(i) + ".vhdx", "", false,
                       uvm::vm_access_type::noop));
  }
  CHECK_FALSE(vm->close());
}

TEST_CASE("a deadline that is not reached changes nothing", "[engine][deadline]") {
  uvm::test::host_dir host;
  uvm::engine eng{sim_config()};
  auto vm = eng.create_lcow(host.lcow("prompt"));
  REQUIRE(vm);
  answers a;
  auto due = std::chrono::steady_clock::now() + 30s;
  vm->start(a.add_error(), "", due);
  REQUIRE(a.wait_for(1, 10s));
  CHECK(a.got[0].first.code == uvm::errc::ok);
  vm->add_scsi({"/d/a.vhdx", "", false, uvm::vm_access_type::noop, false, ""},
               a.add<uvm::scsi_mount>(), due);
  REQUIRE(a.wait_for(2, 10s));
  CHECK(a.got[1].first.code == uvm::errc::ok);
  CHECK(vm->get_scsi_uvm_path("/d/a.vhdx"));
  CHECK(eng.late_replies().undone == 0);
  CHECK_FALSE(vm->close());
}

TEST_CASE("a VM created after its caller's deadline is closed again", "[engine][deadline]") {
  uvm::test::host_dir host;
  uvm::engine eng{sim_config()};
  eng.sim().hold(uvm::hcs::call_kind::create, true);
  answers a;
  auto due = std::chrono::steady_clock::now() + 100ms;
  eng.create_lcow(host.lcow("tardy"), {}, a.add<uvm::utility_vm>(), due);
  REQUIRE(a.wait_for(1, 10s));
  CHECK(a.got[0].first.code == uvm::errc::deadline_exceeded);
  CHECK(a.got[0].first.text == "deadline exceeded: create on utility VM tardy");
  eng.sim().hold(uvm::hcs::call_kind::create, false);
  REQUIRE(eventually([&] { return eng.late_replies().undone == 1; }, 10s));
  // Closed: gone from the registry, and the id is free again.
  REQUIRE(eventually([&] { return !eng.find("tardy"); }, 10s));
  auto again = eng.create_lcow(host.lcow("tardy"));
  REQUIRE(again);
  CHECK_FALSE(again->close());
}
