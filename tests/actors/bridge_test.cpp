// The host bridge with real guest agents: our `gcs` binary over its stdio,
// a guest that never answers (RPC deadline), and a guest killed while
// calls are pending (every call fails at once, the VM is reported exited).
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using namespace std::chrono_literals;
using uvm::test::eventually;

namespace {

uvm::engine_config with_guest(const std::string& guest) {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  // A hung call fails the test within 20 s: the bridge's deadline, then
  // the caller's (engine::caller_wait).
  cfg.bridge_rpc_timeout = std::chrono::seconds(15);
  cfg.cleanup_margin = std::chrono::seconds(5);
  cfg.call_timeout = std::chrono::seconds(20);
  cfg.guest = guest;
  return cfg;
}

std::string layer_file(const uvm::test::host_dir& host) {
  auto path = host.path("layer.vhd");
  std::ofstream(path) << "layer";
  return path;
}

} // namespace

TEST_CASE("device requests travel the bridge to the gcs binary", "[bridge][engine]") {
  uvm::test::host_dir host;
  uvm::engine eng{with_guest(std::string{"exec:"} + UVM_GCS_BINARY + " --stdio")};
  auto vm = eng.create_lcow(host.lcow("real-guest"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  auto layer = layer_file(host);
  auto path = vm->add_vpmem(layer);
  REQUIRE(path);
  CHECK(*path == "/run/layers/p0");
  // The agent refuses a second mount at one guest path: its answer comes
  // back as the guest's error, and the host step is undone.
  auto first = vm->add_plan9(host.path("LinuxBootFiles"), "/run/mounts/m1", true, false, {});
  REQUIRE(first);
  auto second = vm->add_plan9(host.path("layers"), "/run/mounts/m1", true, false, {});
  REQUIRE_FALSE(second);
  CHECK(second.err().text ==
        "guest modify: guest RPC failure: MappedDirectory /run/mounts/m1 is already present in "
        "the guest");
  CHECK(eng.sim().oracle()["real-guest"]["plan9"].size() == 1);
  auto view = nlohmann::json::parse(*vm->device_view());
  CHECK(view["gcs_bridge"]["negotiated"] == true);
  CHECK(view["gcs_bridge"]["capabilities"]["RuntimeOsType"] == "Linux");
  // Every call is answered: no deadline wake-up is left with the timer.
  CHECK(view["gcs_bridge"]["pending"] == 0);
  CHECK(view["gcs_bridge"]["deadline_wake"] == false);
  CHECK_FALSE(vm->remove_vpmem(layer));
  CHECK_FALSE(vm->close());
}

TEST_CASE("a guest that never answers fails the call at the RPC deadline", "[bridge][engine]") {
  uvm::test::host_dir host;
  auto cfg = with_guest("exec:sleep 600");
  cfg.bridge_rpc_timeout = 200ms;
  uvm::engine eng{cfg};
  auto vm = eng.create_lcow(host.lcow("silent"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  auto t0 = std::chrono::steady_clock::now();
  auto path = vm->add_vpmem(layer_file(host));
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(path);
  CHECK(path.err().text.find("bridge Request(NegotiateProtocol) timed out after 200 ms") !=
        std::string::npos);
  CHECK(took < 2s);
  // Without a guest the VM is of no use: it is reported exited.
  CHECK(eventually([&] { return vm->info()->state == uvm::lifecycle_state::exited; }));
  CHECK(vm->exit_error().text.find("bridge closed") != std::string::npos);
}

TEST_CASE("killing the guest fails every pending call at once and the VM exits",
          "[bridge][engine]") {
  uvm::test::host_dir host;
  auto pid_file = host.path("guest.pid");
  uvm::engine eng{with_guest("exec:sh -c 'echo $$ > " + pid_file + "; exec sleep 600'")};
  auto vm = eng.create_lcow(host.lcow("doomed"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(eventually([&] {
    std::error_code ec;
    return std::filesystem::file_size(pid_file, ec) > 0 && !ec;
  }));
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  REQUIRE(pid > 0);

  // Five guest requests wait on the negotiation the silent guest never
  // answers.
  std::vector<std::string> layers;
  for (int i = 0; i < 5; ++i) {
    layers.push_back(host.path("l" + std::to_string(i) + ".vhd"));
    std::ofstream(layers.back()) << "layer";
  }
  std::mutex m;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> failures;
  std::vector<std::thread> callers;
  for (const auto& l : layers) {
    callers.emplace_back([&, l] {
      auto r = vm->add_vpmem(l);
      std::lock_guard<std::mutex> lock{m};
      failures.emplace_back(r ? std::string{"ok"} : r.err().text, std::chrono::steady_clock::now());
    });
  }
  std::this_thread::sleep_for(200ms);
  {
    std::lock_guard<std::mutex> lock{m};
    REQUIRE(failures.empty()); // all pending
  }
  auto killed = std::chrono::steady_clock::now();
  REQUIRE(::kill(pid, SIGKILL) == 0);
  for (auto& t : callers) {
    t.join();
  }
  REQUIRE(failures.size() == 5);
  for (const auto& [text, when] : failures) {
    INFO(text);
    CHECK(text.find("bridge closed: the guest closed the connection") != std::string::npos);
    CHECK(when - killed < 50ms);
  }
  CHECK(eventually([&] { return vm->info()->state == uvm::lifecycle_state::exited; }));
  CHECK(
      vm->exit_error().text.rfind(
          "hcsshim::System::waitBackground doomed: bridge closed: the guest closed the connection",
          0) == 0);
}

TEST_CASE("a guest stopped mid-attach: the engine's deadline names the RPC and undoes the attach",
          "[bridge][engine][deadline]") {
  uvm::test::host_dir host;
  auto pid_file = host.path("gcs.pid");
  auto cfg =
      with_guest("exec:sh -c 'echo $$ > " + pid_file + "; exec " + UVM_GCS_BINARY + " --stdio'");
  cfg.bridge_rpc_timeout = 300ms;
  cfg.cleanup_margin = 5s;
  cfg.call_timeout = 1s; // shorter than the engine's deadline + margin: not what the caller waits
  uvm::engine eng{cfg};
  CHECK(eng.caller_wait() == 5300ms);
  auto vm = eng.create_lcow(host.lcow("stalled"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  auto first = vm->add_scsi("/d/first.vhdx", "/run/mounts/first", false, uvm::vm_access_type::noop);
  REQUIRE(first);
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  REQUIRE(pid > 0);

  REQUIRE(::kill(pid, SIGSTOP) == 0);
  auto t0 = std::chrono::steady_clock::now();
  auto r = vm->add_scsi("/d/stalled.vhdx", "/run/mounts/stalled", false, uvm::vm_access_type::noop);
  auto took = std::chrono::steady_clock::now() - t0;
  ::kill(pid, SIGKILL);
  ::kill(pid, SIGCONT);
  REQUIRE_FALSE(r);
  INFO(r.err().text);
  // The engine's own deadline, long before the caller would give up.
  CHECK(r.err().text.find("bridge Request(ModifySettings) timed out after 300 ms") !=
        std::string::npos);
  CHECK(took < 3s);
  // No disk is left attached without a holder: the engine's view and the
  // simulated HCS agree, and neither holds the stalled disk.
  REQUIRE(eventually([&] { return vm->info()->state == uvm::lifecycle_state::exited; }));
  auto oracle = eng.sim().oracle();
  INFO(oracle.dump());
  INFO(*vm->device_view());
  bool stalled_attached = false;
  if (oracle.contains("stalled") && oracle["stalled"].contains("scsi")) {
    for (const auto& disk : oracle["stalled"]["scsi"]) {
      stalled_attached = stalled_attached || disk.dump().find("stalled.vhdx") != std::string::npos;
    }
  }
  CHECK_FALSE(stalled_attached);
  CHECK_FALSE(vm->close());
}

// A process in the utility VM itself cannot be signalled (the guest
// signals container processes only): started late, it is forgotten and
// its stdio closed, and counted as kept.
TEST_CASE("a process the guest starts after its caller's deadline is forgotten and counted",
          "[bridge][engine][deadline]") {
  uvm::test::host_dir host;
  auto pid_file = host.path("gcs.pid");
  uvm::engine eng{
      with_guest("exec:sh -c 'echo $$ > " + pid_file + "; exec " + UVM_GCS_BINARY + " --stdio'")};
  auto vm = eng.create_lcow(host.lcow("tardy-process"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(vm->add_scsi("/d/warm.vhdx", "/run/mounts/warm", false, uvm::vm_access_type::noop));
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  REQUIRE(pid > 0);

  uvm::process_parameters p;
  p.command_args = {"sh", "-c", "exit 3"};
  p.create_stdout = true;
  REQUIRE(::kill(pid, SIGSTOP) == 0);
  std::mutex m;
  std::condition_variable cv;
  std::optional<uvm::error> answer;
  auto due = std::chrono::steady_clock::now() + 200ms;
  vm->request_by<uvm::process_started>(
      due,
      [&](uvm::result<uvm::process_started> r) {
        std::lock_guard<std::mutex> lock{m};
        answer = r ? uvm::error{} : r.err();
        cv.notify_all();
      },
      uvm::exec_process_atom_v, uvm::process_request{{}, p.to_json(), ""});
  {
    std::unique_lock<std::mutex> lock{m};
    REQUIRE(cv.wait_for(lock, 5s, [&] { return answer.has_value(); }));
  }
  ::kill(pid, SIGCONT);
  CHECK(answer->code == uvm::errc::deadline_exceeded);
  CHECK(answer->text == "deadline exceeded: exec_proc on utility VM tardy-process");
  // The guest starts it once it runs again.
  REQUIRE(eventually([&] { return eng.late_replies().kept == 1; }, 10s));
  CHECK(eng.late_replies().undone == 0);
  // The VM goes on serving.
  REQUIRE(vm->add_scsi("/d/after.vhdx", "/run/mounts/after", false, uvm::vm_access_type::noop));
  CHECK_FALSE(vm->close());
}
