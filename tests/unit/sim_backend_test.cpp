// sim_backend on a manual executor: latency, concurrency, fault injection,
// crashes, exits and the call log, all in virtual time.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "hcs/executor.hpp"
#include "hcs/sim/sim_backend.hpp"

using namespace uvm::hcs;
using namespace std::chrono_literals;
using std::chrono::microseconds;

namespace {

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string scsi_add(int lun) {
  return nlohmann::json{
      {"ResourcePath", "VirtualMachine/Devices/Scsi/0/Attachments/" + std::to_string(lun)},
      {"RequestType", "Add"},
      {"Settings", {{"Type", "VirtualDisk"}, {"Path", "d" + std::to_string(lun)}}}}
      .dump();
}

struct fixture {
  std::shared_ptr<manual_executor> ex = std::make_shared<manual_executor>();
  sim_backend sim{ex, 42};
  std::vector<exit_info> exits;

  // A completion that stores its result.
  completion into(std::optional<call_result>& slot) {
    return [&slot](call_result r) { slot = std::move(r); };
  }

  // Creates and starts `id` with zero latency.
  void running(const std::string& id) {
    std::optional<call_result> created, started;
    sim.create(
        id, read_vector("lcow-uvm-default.create.json"),
        [this](exit_info e) { exits.push_back(std::move(e)); }, into(created));
    sim.start(id, into(started));
    ex->run_ready();
    REQUIRE(created);
    REQUIRE(created->ok());
    REQUIRE(started);
    REQUIRE(started->ok());
  }

  std::string state(const std::string& id) { return sim.oracle()[id]["state"]; }
};

} // namespace

TEST_CASE("sim_backend completes on the executor, never inline", "[sim]") {
  fixture f;
  std::optional<call_result> created;
  f.sim.create("uvm1", read_vector("lcow-uvm-default.create.json"), {}, f.into(created));
  CHECK_FALSE(created);
  CHECK(f.sim.oracle().empty()); // applied when it falls due, not at receipt
  f.ex->run_ready();
  REQUIRE(created);
  CHECK(created->ok());
  CHECK(f.state("uvm1") == "created");
}

TEST_CASE("sim_backend latency delays completion by exactly the configured amount", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.sim.set_latency(call_kind::modify, 5ms, 5ms);
  std::optional<call_result> added;
  f.sim.modify("uvm1", scsi_add(1), f.into(added));
  f.ex->advance(4999us);
  CHECK_FALSE(added);
  CHECK(f.sim.oracle()["uvm1"]["scsi"].empty());
  f.ex->advance(1us);
  REQUIRE(added);
  CHECK(added->ok());
  CHECK(f.sim.oracle()["uvm1"]["scsi"].contains("0:1"));
}

TEST_CASE("sim_backend calls overlap: 64 calls of latency L finish at L", "[sim]") {
  fixture f;
  f.running("uvm1");
  const auto latency = 10ms;
  f.sim.set_latency(call_kind::modify, latency, latency);
  const auto t0 = f.ex->now();
  std::vector<microseconds> finished;
  for (int lun = 0; lun < 64; ++lun) {
    f.sim.modify("uvm1", scsi_add(lun), [&](call_result r) {
      CHECK(r.ok());
      finished.push_back(f.ex->now());
    });
  }
  f.ex->run_all();
  REQUIRE(finished.size() == 64);
  for (auto at : finished) {
    CHECK(at == t0 + latency);
  }
  CHECK(f.sim.oracle()["uvm1"]["scsi"].size() == 64);
  CHECK(f.sim.calls_received(call_kind::modify) == 64);
}

TEST_CASE("sim_backend random latency stays in range and follows the seed", "[sim]") {
  auto run = [](uint64_t seed) {
    auto ex = std::make_shared<manual_executor>();
    sim_backend sim(ex, seed);
    sim.set_latency(call_kind::properties, 1ms, 3ms);
    std::vector<microseconds> at;
    for (int i = 0; i < 200; ++i) {
      sim.properties("none", "{}", [&](call_result) { at.push_back(ex->now()); });
    }
    ex->run_all();
    return at;
  };
  auto first = run(9);
  REQUIRE(first.size() == 200);
  CHECK(first.front() >= 1ms);
  CHECK(first.back() <= 3ms);
  CHECK(first.front() != first.back());
  CHECK(run(9) == first);
}

TEST_CASE("sim_backend fail_next fails exactly count calls, optionally per system", "[sim]") {
  fixture f;
  f.running("a");
  f.running("b");
  f.sim.fail_next(call_kind::modify, 2);
  std::vector<call_result> results;
  for (int lun = 1; lun <= 3; ++lun) {
    f.sim.modify("a", scsi_add(lun), [&](call_result r) { results.push_back(std::move(r)); });
  }
  f.ex->run_all();
  REQUIRE(results.size() == 3);
  CHECK(results[0].hresult == hr::fail);
  CHECK(results[0].message == "injected fault");
  CHECK(results[1].hresult == hr::fail);
  CHECK(results[2].ok());
  // The failed calls left the model unchanged.
  auto scsi = f.sim.oracle()["a"]["scsi"];
  CHECK(scsi.size() == 1);
  CHECK(scsi.contains("0:3"));

  f.sim.fail_next(call_kind::modify, 1, "b");
  std::optional<call_result> on_a, on_b, on_b_again;
  f.sim.modify("a", scsi_add(10), f.into(on_a));
  f.sim.modify("b", scsi_add(10), f.into(on_b));
  f.sim.modify("b", scsi_add(11), f.into(on_b_again));
  f.ex->run_all();
  CHECK(on_a->ok());
  CHECK(on_b->hresult == hr::fail);
  CHECK(on_b_again->ok());

  // Other kinds are not affected; a failed create registers nothing.
  f.sim.fail_next(call_kind::create, 1);
  std::optional<call_result> created;
  f.sim.create("c", read_vector("lcow-uvm-default.create.json"), {}, f.into(created));
  f.ex->run_all();
  CHECK(created->hresult == hr::fail);
  CHECK_FALSE(f.sim.oracle().contains("c"));
}

TEST_CASE("sim_backend fail_with_probability fails about p of the calls", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.sim.fail_with_probability(call_kind::properties, 0.25);
  int failed = 0;
  int done = 0;
  for (int i = 0; i < 10000; ++i) {
    f.sim.properties("uvm1", "{}", [&](call_result r) {
      ++done;
      if (r.hresult == hr::fail) {
        ++failed;
      } else {
        CHECK(r.ok());
      }
    });
  }
  f.ex->run_all();
  CHECK(done == 10000);
  CHECK(failed > 2250);
  CHECK(failed < 2750);

  f.sim.fail_with_probability(call_kind::properties, 0);
  std::optional<call_result> after;
  f.sim.properties("uvm1", "{}", f.into(after));
  f.ex->run_all();
  CHECK(after->ok());
}

TEST_CASE("sim_backend crash now: one unexpected exit, in-flight calls fail", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.sim.set_latency(call_kind::modify, 1ms, 1ms);
  std::optional<call_result> in_flight;
  f.sim.modify("uvm1", scsi_add(1), f.into(in_flight));
  f.sim.crash("uvm1");
  CHECK(f.exits.empty()); // posted, not inline
  CHECK(f.state("uvm1") == "crashed");
  f.ex->run_ready();
  REQUIRE(f.exits.size() == 1);
  CHECK(f.exits[0].hresult == hr::unexpected_exit);
  CHECK(f.exits[0].message == "The virtual machine or container exited unexpectedly.");
  CHECK_FALSE(in_flight);
  f.ex->run_all();
  REQUIRE(in_flight);
  CHECK(in_flight->hresult == hr::invalid_state);

  f.sim.crash("uvm1");
  std::optional<call_result> terminated;
  f.sim.terminate("uvm1", f.into(terminated));
  f.ex->run_all();
  CHECK(terminated->hresult == hr::already_stopped);
  CHECK(f.exits.size() == 1);
}

TEST_CASE("sim_backend crash_after_calls crashes at the n-th call received", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.running("other");
  f.sim.crash_after_calls("uvm1", 3);
  std::vector<call_result> results;
  auto keep = [&](call_result r) { results.push_back(std::move(r)); };
  f.sim.modify("uvm1", scsi_add(1), keep);
  f.sim.modify("other", scsi_add(1), keep); // another system's calls do not count
  f.sim.properties("uvm1", "{}", keep);
  f.ex->run_all();
  CHECK(f.exits.empty());
  f.sim.modify("uvm1", scsi_add(2), keep);
  CHECK(f.state("uvm1") == "crashed");
  f.ex->run_all();
  REQUIRE(results.size() == 4);
  CHECK(results[0].ok());
  CHECK(results[1].ok());
  CHECK(results[2].ok());
  CHECK(results[3].hresult == hr::invalid_state);
  REQUIRE(f.exits.size() == 1);
  CHECK(f.exits[0].hresult == hr::unexpected_exit);
  CHECK(f.state("other") == "running");
}

TEST_CASE("sim_backend crash_after crashes after the delay", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.sim.set_latency(call_kind::modify, 10ms, 10ms);
  std::optional<call_result> in_flight;
  f.sim.modify("uvm1", scsi_add(1), f.into(in_flight));
  f.sim.crash_after("uvm1", 5ms);
  f.ex->advance(4999us);
  CHECK(f.exits.empty());
  CHECK(f.state("uvm1") == "running");
  f.ex->advance(1us);
  REQUIRE(f.exits.size() == 1);
  CHECK(f.exits[0].hresult == hr::unexpected_exit);
  f.ex->run_all();
  REQUIRE(in_flight);
  CHECK(in_flight->hresult == hr::invalid_state);
  CHECK(f.exits.size() == 1);
}

TEST_CASE("sim_backend terminate and shutdown give one clean exit", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.sim.set_latency(call_kind::terminate, 2ms, 2ms);
  std::optional<call_result> first, second;
  f.sim.terminate("uvm1", f.into(first));
  f.sim.terminate("uvm1", f.into(second));
  f.ex->run_all();
  CHECK(first->ok());
  CHECK(second->hresult == hr::already_stopped);
  REQUIRE(f.exits.size() == 1);
  CHECK(f.exits[0].hresult == hr::ok);
  CHECK(f.exits[0].message.empty());
  CHECK(f.state("uvm1") == "stopped");

  f.running("uvm2");
  std::optional<call_result> down;
  f.sim.shutdown("uvm2", f.into(down));
  f.ex->run_all();
  CHECK(down->ok());
  REQUIRE(f.exits.size() == 2);
  CHECK(f.exits[1].hresult == hr::ok);
  f.sim.crash("uvm2"); // already stopped: nothing more
  f.ex->run_all();
  CHECK(f.exits.size() == 2);
}

TEST_CASE("sim_backend close suppresses the exit and frees the id", "[sim]") {
  fixture f;
  f.running("uvm1");
  f.sim.close("uvm1");
  f.sim.crash("uvm1");
  f.ex->run_all();
  CHECK(f.exits.empty());
  CHECK_FALSE(f.sim.oracle().contains("uvm1"));

  // A crash already posted is suppressed by a close before it is delivered.
  f.running("uvm1");
  f.sim.crash("uvm1");
  f.sim.close("uvm1");
  f.ex->run_all();
  CHECK(f.exits.empty());

  // A call for the closed incarnation fails even though the id is back.
  f.running("uvm1");
  f.sim.set_latency(call_kind::modify, 1ms, 1ms);
  std::optional<call_result> old_call;
  f.sim.modify("uvm1", scsi_add(1), f.into(old_call));
  f.sim.close("uvm1");
  f.running("uvm1");
  f.ex->run_all();
  REQUIRE(old_call);
  CHECK(old_call->hresult == hr::system_not_found);
  CHECK(f.sim.oracle()["uvm1"]["scsi"].empty());
  CHECK(f.state("uvm1") == "running");

  // A crash armed for the closed incarnation does not hit the new one.
  f.sim.crash_after("uvm1", 1ms);
  f.sim.close("uvm1");
  f.running("uvm1");
  f.ex->run_all();
  CHECK(f.exits.empty());
  CHECK(f.state("uvm1") == "running");
}

TEST_CASE("sim_backend keeps nothing per id once its calls are delivered", "[sim]") {
  fixture f;
  for (int i = 0; i < 1000; ++i) {
    auto id = "churn" + std::to_string(i);
    f.running(id);
    f.sim.crash_after(id, 1ms);
    f.sim.close(id);
  }
  // A call and a crash in flight are armed until they are delivered.
  f.running("held");
  f.sim.set_latency(call_kind::modify, 1ms, 1ms);
  std::optional<call_result> in_flight;
  f.sim.modify("held", scsi_add(1), f.into(in_flight));
  f.sim.crash_after("held", 2ms);
  CHECK(f.sim.armed_ids() > 0);
  f.ex->run_all();
  REQUIRE(in_flight);
  CHECK(in_flight->ok());
  CHECK(f.exits.size() == 1); // only "held" crashed: the closed ones were spared
  CHECK(f.sim.armed_ids() == 0);
  CHECK(f.sim.oracle().size() == 1);
}

TEST_CASE("sim_backend call log", "[sim]") {
  fixture f;
  std::vector<std::string> lines;
  f.sim.set_call_log([&](const std::string& line) { lines.push_back(line); });
  const auto document = read_vector("lcow-uvm-default.create.json");
  const auto request = read_vector("scsi-add-lcow.modify.json");
  f.sim.create("uvm1", document, {}, {});
  f.sim.start("uvm1", {});
  f.sim.modify("uvm1", request, {});
  f.sim.properties("uvm1", R"({"PropertyTypes":["Statistics","Memory"]})", {});
  f.sim.properties("uvm1", "{}", {});
  f.sim.shutdown("uvm1", {});
  f.sim.terminate("uvm1", {});
  f.sim.close("uvm1");
  f.sim.modify("uvm1", "not json", {});
  f.ex->run_all();
  REQUIRE(lines.size() == 9);
  // Member order and Go's escaping survive: the payload is the sent bytes.
  CHECK(lines[0] == R"({"call":"create","id":"uvm1","document":)" + document + "}");
  CHECK(lines[1] == R"({"call":"start","id":"uvm1"})");
  CHECK(lines[2] == R"({"call":"modify","id":"uvm1","request":)" + request + "}");
  CHECK(lines[3] ==
        R"({"call":"properties","id":"uvm1","query":{"PropertyTypes":["Statistics","Memory"]}})");
  CHECK(lines[4] == R"({"call":"properties","id":"uvm1","query":{}})");
  CHECK(lines[5] == R"({"call":"shutdown","id":"uvm1"})");
  CHECK(lines[6] == R"({"call":"terminate","id":"uvm1"})");
  CHECK(lines[7] == R"({"call":"close","id":"uvm1"})");
  CHECK(lines[8] == R"({"call":"modify","id":"uvm1","request":"not json"})");

  CHECK(f.sim.calls_received(call_kind::create) == 1);
  CHECK(f.sim.calls_received(call_kind::start) == 1);
  CHECK(f.sim.calls_received(call_kind::modify) == 2);
  CHECK(f.sim.calls_received(call_kind::properties) == 2);
  CHECK(f.sim.calls_received(call_kind::shutdown) == 1);
  CHECK(f.sim.calls_received(call_kind::terminate) == 1);
}

TEST_CASE("sim_backend oracle_json and properties payload", "[sim]") {
  fixture f;
  f.running("uvm1");
  auto oracle = nlohmann::json::parse(f.sim.oracle_json());
  CHECK(oracle["uvm1"]["state"] == "running");
  std::optional<call_result> props;
  f.sim.properties("uvm1", "{}", f.into(props));
  f.ex->run_all();
  REQUIRE(props->ok());
  auto p = nlohmann::json::parse(props->payload);
  CHECK(p["Id"] == "uvm1");
  CHECK(p["RuntimeId"] == oracle["uvm1"]["runtime_id"]);
}

TEST_CASE("sim_backend destroyed with calls in flight drops them", "[sim]") {
  auto ex = std::make_shared<manual_executor>();
  auto sentinel = std::make_shared<int>(0);
  bool called = false;
  {
    sim_backend sim(ex);
    sim.set_latency(call_kind::create, 1ms, 1ms);
    sim.create("uvm1", "{}", {}, [&called, sentinel](call_result) { called = true; });
  }
  ex->run_all();
  CHECK_FALSE(called);
  CHECK(ex->pending() == 0);
  CHECK(sentinel.use_count() == 1);
}

TEST_CASE("sim_backend on the thread executor with concurrent callers", "[sim]") {
  auto ex = make_thread_executor(2);
  sim_backend sim(ex, 5);
  for (int kind = 0; kind < call_kind_count; ++kind) {
    sim.set_latency(static_cast<call_kind>(kind), 100us, 2ms);
  }
  std::mutex mutex;
  std::condition_variable cv;
  int exits = 0;
  int failures = 0; // Catch2 assertions are not thread-safe: count, check later
  const auto document = read_vector("lcow-uvm-default.create.json");
  auto count_failure = [&](call_result r) {
    if (!r.ok()) {
      std::lock_guard<std::mutex> lock(mutex);
      ++failures;
    }
  };
  // Each caller drives its own VMs one step at a time, as an actor would.
  auto caller = [&](int t) {
    for (int v = 0; v < 5; ++v) {
      const auto id = "vm" + std::to_string(t) + "-" + std::to_string(v);
      std::promise<void> ready;
      sim.create(
          id, document,
          [&](exit_info e) {
            std::lock_guard<std::mutex> lock(mutex);
            failures += e.hresult == hr::ok ? 0 : 1;
            ++exits;
            cv.notify_all();
          },
          [&](call_result r) {
            count_failure(r);
            ready.set_value();
          });
      ready.get_future().wait();
      std::promise<void> started;
      sim.start(id, [&](call_result r) {
        count_failure(r);
        started.set_value();
      });
      started.get_future().wait();
      std::atomic<int> pending{8};
      std::promise<void> modified;
      for (int lun = 0; lun < 8; ++lun) {
        sim.modify(id, scsi_add(lun), [&](call_result r) {
          count_failure(r);
          if (--pending == 0) {
            modified.set_value();
          }
        });
      }
      modified.get_future().wait();
      sim.terminate(id, count_failure);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back(caller, t);
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::unique_lock<std::mutex> lock(mutex);
  REQUIRE(cv.wait_for(lock, 10s, [&] { return exits == 20; }));
  CHECK(failures == 0);
  auto oracle = sim.oracle();
  CHECK(oracle.size() == 20);
  for (const auto& [id, system] : oracle.items()) {
    CHECK(system["state"] == "stopped");
    CHECK(system["scsi"].size() == 8);
  }
  CHECK(sim.calls_received(call_kind::modify) == 160);
}
