#include <catch2/catch.hpp>

#include "actors/core/vm_lifecycle.hpp"

using uvm::errc;
using uvm::lifecycle_state;
using uvm::vm_lifecycle;

TEST_CASE("lifecycle: created -> running -> stopping -> stopped", "[lifecycle]") {
  vm_lifecycle l{"vm"};
  CHECK(l.state() == lifecycle_state::created);
  CHECK(l.exit_error().text == "container not exited");
  CHECK(l.check_running("add a disk").text == "utility VM vm is created: cannot add a disk");
  REQUIRE_FALSE(l.begin_start());
  CHECK(l.state() == lifecycle_state::starting);
  CHECK(l.begin_start().code == errc::invalid_state);
  l.start_succeeded();
  CHECK(l.state() == lifecycle_state::running);
  CHECK_FALSE(l.check_running("add a disk"));
  CHECK(l.begin_stop());
  CHECK(l.state() == lifecycle_state::stopping);
  CHECK(l.begin_stop()); // a second terminate while stopping still asks HCS
  // Whatever status the exit carries, it was asked for.
  l.on_exit(true, "hcsshim::System::waitBackground vm: x");
  CHECK(l.state() == lifecycle_state::stopped);
  CHECK_FALSE(l.exit_error());
  CHECK_FALSE(l.begin_stop()); // already stopped: nothing to do
  CHECK(l.begin_start().text == "utility VM vm is stopped: cannot start");
}

TEST_CASE("lifecycle: an exit nobody asked for", "[lifecycle]") {
  vm_lifecycle l{"vm"};
  REQUIRE_FALSE(l.begin_start());
  l.start_succeeded();
  l.on_exit(true, "boom");
  CHECK(l.state() == lifecycle_state::exited);
  CHECK(l.exit_error().text == "boom");
  CHECK(l.exited_error().code == errc::vm_exited);
  CHECK(l.exited_error().text == "utility VM vm exited unexpectedly: boom");
  CHECK(l.check_running("add a disk").text == "utility VM vm exited unexpectedly: boom");
  CHECK(l.begin_start().code == errc::vm_exited);
  // A second notification changes nothing.
  l.on_exit(false, "");
  CHECK(l.state() == lifecycle_state::exited);
  // Close keeps the exit's error for ExitError.
  l.close();
  CHECK(l.state() == lifecycle_state::closed);
  CHECK(l.exit_error().text == "boom");
}

TEST_CASE("lifecycle: a clean exit without a request is not unexpected", "[lifecycle]") {
  vm_lifecycle l{"vm"};
  REQUIRE_FALSE(l.begin_start());
  l.start_succeeded();
  l.on_exit(false, "");
  CHECK(l.state() == lifecycle_state::stopped);
  CHECK_FALSE(l.exit_error());
}

TEST_CASE("lifecycle: failed start, restart", "[lifecycle]") {
  vm_lifecycle l{"vm"};
  REQUIRE_FALSE(l.begin_start());
  l.start_failed();
  CHECK(l.state() == lifecycle_state::created);
  CHECK_FALSE(l.was_started());
  REQUIRE_FALSE(l.begin_start());
  l.start_succeeded();
  CHECK(l.was_started());
  l.on_exit(true, "crash");
  l.restart();
  CHECK(l.state() == lifecycle_state::created);
  CHECK(l.restarts() == 1);
  CHECK(l.exit_error().text == "container not exited");
  CHECK(l.was_started());
}

TEST_CASE("lifecycle: a restarted system holds callers' calls while it runs", "[lifecycle]") {
  vm_lifecycle l{"vm"};
  uvm::held_calls child;
  l.hold_calls(true);
  // Not before it runs: those calls get the state's error.
  CHECK_FALSE(l.gate()->holds_calls());
  CHECK_FALSE(child.must_wait(*l.gate()));
  REQUIRE_FALSE(l.begin_start());
  l.start_succeeded();
  CHECK(l.gate()->holds_calls());
  CHECK(child.must_wait(*l.gate()));
  // Let go: a child that has a call waiting keeps the later ones behind it
  // until it is released; one that had none serves at once.
  l.hold_calls(false);
  CHECK_FALSE(l.gate()->holds_calls());
  CHECK(child.must_wait(*l.gate()));
  uvm::held_calls idle;
  CHECK_FALSE(idle.must_wait(*l.gate()));
  child.release();
  CHECK_FALSE(child.must_wait(*l.gate()));
  // An exit ends the hold: the calls are answered with the exit.
  l.hold_calls(true);
  l.on_exit(true, "crashed");
  CHECK_FALSE(l.gate()->holds_calls());
}
