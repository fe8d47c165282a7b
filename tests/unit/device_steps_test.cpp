// device_steps, the modify dispatcher of uvm-api.md §4, against fakes of
// HCS and the guest: the order of the steps, the undo of a host add whose
// guest step failed (retried until HCS lets go), the guest's mount given
// back when a removal's host step fails, and the errors' words.
#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <vector>

#include "actors/core/device_steps.hpp"

using namespace std::chrono_literals;
using uvm::device_steps;
using uvm::error;
using uvm::hcs::call_result;

namespace {

// HCS: every modify is recorded; the test completes them in order.
struct fake_host : uvm::hcs::backend {
  std::vector<std::string> requests;
  std::deque<uvm::hcs::completion> pending;
  void create(const std::string&, std::string, uvm::hcs::exit_handler,
              uvm::hcs::completion) override {}
  void start(const std::string&, uvm::hcs::completion) override {}
  void modify(const std::string&, std::string request, uvm::hcs::completion done) override {
    requests.push_back(std::move(request));
    pending.push_back(std::move(done));
  }
  void shutdown(const std::string&, uvm::hcs::completion) override {}
  void terminate(const std::string&, uvm::hcs::completion) override {}
  void properties(const std::string&, std::string, uvm::hcs::completion) override {}
  void close(const std::string&) override {}

  void answer(call_result r) {
    REQUIRE_FALSE(pending.empty());
    auto done = std::move(pending.front());
    pending.pop_front();
    done(std::move(r));
  }
};

// The guest: answers inside the call, failing the requests it is told to.
struct fake_guest : uvm::guest_backend {
  std::vector<std::string> requests;
  int fail_next = 0;
  void modify(const std::string& request, const std::string&, completion done) override {
    requests.push_back(request);
    if (fail_next > 0) {
      --fail_next;
      done(error{uvm::errc::hcs_failure, "guest RPC failure: no such device"});
      return;
    }
    done({});
  }
};

struct rig {
  std::shared_ptr<fake_host> host = std::make_shared<fake_host>();
  std::shared_ptr<fake_guest> guest = std::make_shared<fake_guest>();
  std::vector<uint64_t> woken;
  std::vector<std::pair<std::chrono::milliseconds, uint64_t>> timers;
  uvm::completion_inbox inbox{
      [this](uint64_t id) { woken.push_back(id); },
      [this](std::chrono::milliseconds d, uint64_t id) { timers.emplace_back(d, id); }};
  device_steps steps;
  std::vector<error> outcomes;

  explicit rig(bool external = true) : steps({"vm1", external, host, guest}, inbox) {}

  device_steps::done_fn record() {
    return [this](const error& e) { outcomes.push_back(e); };
  }
  // HCS answers the oldest call; its continuation runs on the next turn.
  void host_answers(call_result r = call_result::success()) {
    host->answer(std::move(r));
    run_woken();
  }
  void run_woken() {
    auto ids = std::move(woken);
    woken.clear();
    for (auto id : ids) {
      inbox.deliver(id);
    }
  }
  void fire_timer() {
    REQUIRE_FALSE(timers.empty());
    auto id = timers.front().second;
    timers.erase(timers.begin());
    inbox.deliver(id);
  }
};

uvm::hcs::scsi_disk disk() {
  return {0, 1, "/d/a.vhdx", "/run/m1", "VirtualDisk", false};
}

} // namespace

TEST_CASE("an add goes to HCS first, then to the guest", "[device_steps]") {
  rig r;
  auto req = uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] { r.steps.add(req, "act", r.record()); });
  REQUIRE(r.host->requests == std::vector<std::string>{*req.host});
  CHECK(r.guest->requests.empty());
  r.host_answers();
  CHECK(r.guest->requests == std::vector<std::string>{*req.guest});
  REQUIRE(r.outcomes.size() == 1);
  CHECK_FALSE(r.outcomes[0]);
  CHECK(r.inbox.pending() == 0);
}

TEST_CASE("without an external guest HCS gets the whole request", "[device_steps]") {
  rig r{false};
  auto req = uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] { r.steps.add(req, "act", r.record()); });
  REQUIRE(r.host->requests == std::vector<std::string>{uvm::hcs::combined_request(req)});
  r.host_answers(call_result::failure(0x80004005, "busy"));
  CHECK(r.guest->requests.empty());
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].text ==
        "hcsshim::System::Modify vm1: busy\n(extra info: " + uvm::hcs::combined_request(req) + ")");
}

TEST_CASE("a host failure of an add is the answer; nothing reaches the guest", "[device_steps]") {
  rig r;
  auto req = uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] { r.steps.add(req, "act", r.record()); });
  r.host_answers(call_result::failure(0x80004005, "no room"));
  CHECK(r.guest->requests.empty());
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].text == "adding VM resources: hcsshim::System::Modify vm1: no room\n"
                              "(extra info: " +
                                  *req.host + ")");
}

TEST_CASE("a failed guest step undoes the host add, retrying until HCS lets go", "[device_steps]") {
  rig r;
  r.guest->fail_next = 1;
  auto req = uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] { r.steps.add(req, "act", r.record()); });
  r.host_answers(); // the add
  REQUIRE(r.host->requests.size() == 2);
  CHECK(r.host->requests[1] == uvm::hcs::host_undo(*req.host));
  CHECK(r.outcomes.empty()); // not before HCS let go

  r.host_answers(call_result::failure(0x80004005, "still busy")); // the undo fails
  REQUIRE(r.timers.size() == 1);
  CHECK(r.timers[0].first == device_steps::undo_retry_first);
  CHECK(r.outcomes.empty());
  r.fire_timer();
  REQUIRE(r.host->requests.size() == 3);
  r.host_answers(call_result::failure(0x80004005, "still busy"));
  REQUIRE(r.timers.size() == 1);
  CHECK(r.timers[0].first == 2 * device_steps::undo_retry_first);
  r.fire_timer();
  r.host_answers(); // the undo at last
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].text == "guest modify: guest RPC failure: no such device");
  CHECK(r.inbox.pending() == 0);
}

TEST_CASE("a removal goes to the guest first, then to HCS", "[device_steps]") {
  rig r;
  auto req = uvm::hcs::scsi_remove(uvm::hcs::guest_os::lcow, disk());
  bool restored = false;
  r.inbox.turn([&] {
    r.steps.remove(
        req,
        [&] {
          restored = true;
          return uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk()).guest;
        },
        "act", r.record());
  });
  CHECK(r.guest->requests == std::vector<std::string>{*req.guest});
  REQUIRE(r.host->requests == std::vector<std::string>{*req.host});
  r.host_answers();
  REQUIRE(r.outcomes.size() == 1);
  CHECK_FALSE(r.outcomes[0]);
  CHECK_FALSE(restored); // made only when needed
}

TEST_CASE("a removal whose host step fails gives the guest its mount back", "[device_steps]") {
  rig r;
  auto req = uvm::hcs::scsi_remove(uvm::hcs::guest_os::lcow, disk());
  auto add = uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] {
    r.steps.remove(
        req, [&] { return add.guest; }, "act", r.record());
  });
  r.host_answers(call_result::failure(0x80004005, "in use"));
  CHECK(r.guest->requests == std::vector<std::string>{*req.guest, *add.guest});
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].text == "removing VM resources: hcsshim::System::Modify vm1: in use\n"
                              "(extra info: " +
                                  *req.host + ")");
}

TEST_CASE("a guest failure of a removal leaves HCS alone", "[device_steps]") {
  rig r;
  r.guest->fail_next = 1;
  auto req = uvm::hcs::scsi_remove(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] { r.steps.remove(req, {}, "act", r.record()); });
  CHECK(r.host->requests.empty());
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].text == "guest modify: guest RPC failure: no such device");
}

TEST_CASE("a guest that refuses its mount back after a failed removal is asked again until it "
          "takes it",
          "[device_steps]") {
  rig r;
  auto req = uvm::hcs::scsi_remove(uvm::hcs::guest_os::lcow, disk());
  auto add = uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk());
  r.inbox.turn([&] {
    r.steps.remove(
        req, [&] { return add.guest; }, "act", r.record());
  });
  r.guest->fail_next = 2; // the first two restores
  r.host_answers(call_result::failure(0x80004005, "in use"));
  CHECK(r.outcomes.empty()); // not before the guest has it again
  REQUIRE(r.timers.size() == 1);
  CHECK(r.timers[0].first == device_steps::undo_retry_first);
  r.fire_timer();
  REQUIRE(r.timers.size() == 1);
  CHECK(r.timers[0].first == 2 * device_steps::undo_retry_first);
  CHECK(r.outcomes.empty());
  r.fire_timer();
  CHECK(r.guest->requests ==
        std::vector<std::string>{*req.guest, *add.guest, *add.guest, *add.guest});
  REQUIRE(r.outcomes.size() == 1);
  CHECK(r.outcomes[0].text.rfind("removing VM resources: ", 0) == 0);
  CHECK(r.inbox.pending() == 0);
}
