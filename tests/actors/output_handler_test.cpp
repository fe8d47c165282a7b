// OutputHandler (uvm-api.md §5.6): the guest agent's log lines reach a
// custom handler set in the LCOW options, or the default handler, which
// re-logs them through the engine's logger with the VM id and the guest's
// level; for the in-process agent and for the gcs binary run as exec:.
// Wait returns only once the guest's log has been read to its end (§5.7).
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "actors/core/logging.hpp"
#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using uvm::test::eventually;

namespace {

// What a custom handler was given.
struct captured {
  std::mutex mutex;
  std::string bytes;
  int ends = 0;

  uvm::output_handler handler() {
    return [this](std::string_view chunk, bool end) {
      std::lock_guard<std::mutex> lock{mutex};
      if (end) {
        ++ends;
      } else {
        bytes.append(chunk);
      }
    };
  }
  bool has(const std::string& text) {
    std::lock_guard<std::mutex> lock{mutex};
    return bytes.find(text) != std::string::npos;
  }
  int end_calls() {
    std::lock_guard<std::mutex> lock{mutex};
    return ends;
  }
};

// The engine logger's lines, kept.
class line_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock{mutex_};
    return lines_;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

private:
  std::vector<std::string> lines_;
};

// JSON lines at `lvl` while it lives, its sink on the engine logger.
struct logged {
  std::shared_ptr<line_sink> sink = std::make_shared<line_sink>();
  explicit logged(uvm::logging::level lvl = uvm::logging::level::info) {
    uvm::logging::init(uvm::logging::format::json, lvl);
    spdlog::get("uvm")->sinks().push_back(sink);
  }
  ~logged() {
    auto& sinks = spdlog::get("uvm")->sinks();
    sinks.pop_back();
    uvm::logging::init(uvm::logging::format::human, uvm::logging::level::warn);
  }
  // Every line that is a JSON object, parsed.
  std::vector<nlohmann::json> objects() {
    std::vector<nlohmann::json> out;
    for (auto& l : sink->lines()) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      if (j.is_object()) {
        out.push_back(std::move(j));
      }
    }
    return out;
  }
  // The first line whose msg is `msg`, parsed.
  nlohmann::json line(const std::string& msg) {
    for (auto& j : objects()) {
      if (j.value("msg", "") == msg) {
        return j;
      }
    }
    return nullptr;
  }
  // The sum of field `field` over the lines whose msg is `msg`.
  size_t sum(const std::string& msg, const std::string& field) {
    size_t n = 0;
    for (auto& j : objects()) {
      n += j.value("msg", "") == msg ? j.value(field, size_t{0}) : 0;
    }
    return n;
  }
  // How many lines are the guest's own entries, re-logged.
  size_t guest_entries() {
    size_t n = 0;
    for (auto& j : objects()) {
      n += j.contains("vm.time") ? 1 : 0;
    }
    return n;
  }
};

uvm::engine_config with_guest(const std::string& guest) {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  cfg.guest = guest;
  return cfg;
}

} // namespace

TEST_CASE("the in-process guest's log lines reach a custom handler", "[output][engine]") {
  captured got; // first: it outlives the engine that calls it
  logged at_info;
  uvm::test::host_dir host;
  uvm::engine eng{with_guest("in-process")};
  auto opts = host.lcow("log-custom");
  opts.output = got.handler();
  auto vm = eng.create_lcow(opts);
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(eventually([&] { return got.has("bridge protocol negotiated"); }));
  CHECK(got.has(R"("level":"info")"));
  CHECK(got.end_calls() == 0);
  // Re-logged by no one else.
  CHECK(at_info.line("bridge protocol negotiated").is_null());
  CHECK_FALSE(vm->close());
  CHECK(eventually([&] { return got.end_calls() == 1; }));
}

TEST_CASE("the default handler re-logs guest lines with the VM id and level", "[output][engine]") {
  logged at_info;
  uvm::test::host_dir host;
  {
    uvm::engine eng{with_guest("in-process")};
    auto vm = eng.create_lcow(host.lcow("log-default"));
    REQUIRE(vm);
    REQUIRE_FALSE(vm->start());
    REQUIRE(eventually([&] { return !at_info.line("bridge protocol negotiated").is_null(); }));
    auto line = at_info.line("bridge protocol negotiated");
    CHECK(line["vm_id"] == "log-default");
    CHECK(line["uvm-id"] == "log-default");
    CHECK(line["level"] == "info");
    CHECK(line["version"] == 4);
    CHECK(line["vm.time"].get<std::string>().size() == 30); // RFC 3339, nanoseconds, UTC
    CHECK_FALSE(vm->close());
  }
  CHECK(at_info.line("gcs log read").is_null());
}

TEST_CASE("the default handler bounds how fast a guest fills the log", "[output][engine]") {
  // At debug the guest logs every bridge request it serves.
  logged at_debug{uvm::logging::level::debug};
  uvm::test::host_dir host;
  auto t0 = std::chrono::steady_clock::now();
  {
    auto cfg = with_guest("in-process");
    cfg.guest_log_rate = {1, 1};
    uvm::engine eng{cfg};
    auto vm = eng.create_lcow(host.lcow("log-flood"));
    REQUIRE(vm);
    REQUIRE_FALSE(vm->start());
    for (int i = 0; i < 5; ++i) {
      REQUIRE(vm->dump_stacks());
    }
    REQUIRE(eventually([&] { return !at_debug.line("gcs log rate limit reached").is_null(); }));
    auto cut = at_debug.line("gcs log rate limit reached");
    CHECK(cut["level"] == "warning");
    CHECK(cut["vm_id"] == "log-flood");
    CHECK(cut["per-second"] == 1);
    CHECK(cut["burst"] == 1);
    CHECK_FALSE(vm->close());
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
  // The end of the log says how many were cut (with any count said
  // before it, while the flood lasted); the guest logged at least
  // six (the negotiation and five dumps), and no more passed than the
  // burst and the rate allow.
  auto dropped = at_debug.line("gcs log entries dropped");
  REQUIRE_FALSE(dropped.is_null());
  CHECK(dropped["uvm-id"] == "log-flood");
  auto passed = at_debug.guest_entries();
  CHECK(passed >= 1);
  CHECK(passed <= 1 + static_cast<size_t>(elapsed.count()));
  CHECK(passed + at_debug.sum("gcs log entries dropped", "dropped") >= 6);
}

TEST_CASE("an exec: gcs logs to the descriptor beside the bridge", "[output][engine][bridge]") {
  captured got;
  uvm::test::host_dir host;
  uvm::engine eng{with_guest(std::string{"exec:"} + UVM_GCS_BINARY + " --stdio")};
  auto opts = host.lcow("log-exec");
  opts.output = got.handler();
  auto vm = eng.create_lcow(opts);
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  REQUIRE(eventually([&] { return got.has("bridge protocol negotiated"); }));
  CHECK(got.has(R"("level":"info")"));
  CHECK_FALSE(vm->close());
  CHECK(eventually([&] { return got.end_calls() == 1; }));
}

TEST_CASE("Wait returns once the guest's log has been read to its end", "[output][engine]") {
  // The handler takes its time over the end of the log: a Wait that
  // returned at the system's exit alone would see it unfinished.
  std::atomic<int> ends{0};
  uvm::test::host_dir host;
  uvm::engine eng{with_guest("in-process")};
  auto opts = host.lcow("log-wait");
  opts.output = [&ends](std::string_view, bool end) {
    if (end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      ++ends;
    }
  };
  auto vm = eng.create_lcow(opts);
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  // One Wait from before the exit, one from after it.
  auto before = std::async(std::launch::async, [&] {
    auto e = vm->wait();
    return !e && ends == 1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50)); // it reaches the VM first
  REQUIRE_FALSE(vm->terminate());
  REQUIRE_FALSE(vm->wait());
  CHECK(ends == 1);
  CHECK(before.get());
  // Once read, there is nothing left to wait for.
  REQUIRE_FALSE(vm->wait());
  CHECK_FALSE(vm->close());
  CHECK(ends == 1);
}
