// Containers and processes through the engine (uvm-api.md §6, §15): real
// processes in our in-process guest agent, their stdio over the relay
// sockets, exit codes, signals, container exit notifications on the bus,
// capabilities, what a VM's exit does to a process being waited for, and
// the agent's sandbox (and its unconfined option).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

using namespace std::chrono_literals;

namespace {

uvm::engine_config in_process_guest() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  // A hung call fails the test within 20 s: the bridge's deadline, then
  // the caller's (engine::caller_wait).
  cfg.bridge_rpc_timeout = std::chrono::seconds(15);
  cfg.cleanup_margin = std::chrono::seconds(5);
  cfg.call_timeout = std::chrono::seconds(20);
  cfg.guest = "in-process";
  return cfg;
}

std::string shell(const std::string& script, bool with_stdin = false) {
  uvm::process_parameters p;
  p.command_args = {"sh", "-c", script};
  p.create_stdin = with_stdin;
  p.create_stdout = true;
  p.create_stderr = true;
  return p.to_json();
}

std::string container_config(const std::vector<std::string>& args) {
  nlohmann::json cfg = {
      {"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
      {"OciSpecification",
       {{"process", {{"args", args}, {"env", {"PATH=/usr/bin:/bin"}}, {"cwd", "/"}}}}}};
  return cfg.dump();
}

// A created and started LCOW VM (optional: used like the engine's results).
std::optional<uvm::utility_vm> started_lcow(uvm::engine& eng, const uvm::test::host_dir& host,
                                            const std::string& id) {
  auto vm = eng.create_lcow(host.lcow(id));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());
  return *vm;
}

// Container events seen on the bus.
struct container_events {
  std::mutex m;
  std::condition_variable cv;
  std::vector<uvm::container_event> seen;
};

caf::behavior container_listener(caf::event_based_actor* self, caf::group bus,
                                 std::shared_ptr<container_events> log) {
  self->join(bus);
  self->set_default_handler(caf::drop);
  return {
      [=](const uvm::container_event& e) {
        std::lock_guard<std::mutex> lock{log->m};
        log->seen.push_back(e);
        log->cv.notify_all();
      },
      [](caf::ok_atom) -> caf::ok_atom { return caf::ok_atom_v; },
  };
}

} // namespace

TEST_CASE("a process in the VM gives its output, its errors and its exit code",
          "[process][engine]") {
  uvm::test::host_dir host;
  uvm::engine eng{in_process_guest()};
  auto vm = started_lcow(eng, host, "proc-vm");

  auto p = vm->create_process(shell("echo out; echo err >&2; exit 7"));
  REQUIRE(p);
  CHECK(p->pid() > 0);
  CHECK(p->container_id() == "00000000-0000-0000-0000-000000000000");
  auto output = p->communicate("");
  REQUIRE(output);
  CHECK(output->out == "out\n");
  CHECK(output->err == "err\n");
  auto code = p->wait();
  REQUIRE(code);
  CHECK(*code == 7);
  CHECK(*p->exit_code() == 7);

  SECTION("stdin piped to cat comes back") {
    std::string input;
    for (int i = 0; i < 20000; ++i) {
      input += "line " + std::to_string(i) + "\n"; // more than a socket buffer
    }
    auto cat = vm->create_process(shell("cat", true));
    REQUIRE(cat);
    CHECK(cat->exit_code().err().text == "process not exited");
    auto echoed = cat->communicate(input);
    REQUIRE(echoed);
    CHECK(echoed->out == input);
    CHECK(echoed->err.empty());
    CHECK(*cat->wait() == 0);
  }

  SECTION("a process without stdio runs too, and a missing program is the start's error") {
    uvm::process_parameters quiet;
    quiet.command_line = "true";
    auto q = vm->create_process(quiet.to_json());
    REQUIRE(q);
    CHECK(q->std_out() == nullptr);
    CHECK(*q->wait() == 0);
    uvm::process_parameters missing;
    missing.command_args = {"/no/such/program"};
    auto m = vm->create_process(missing.to_json());
    REQUIRE_FALSE(m);
    CHECK(m.err().text.rfind("guest RPC failure: ", 0) == 0);
    CHECK(m.err().text.find("/no/such/program") != std::string::npos);
    auto bad = vm->create_process("[1,2]");
    REQUIRE_FALSE(bad);
    CHECK(bad.err().text == "process parameters must be a JSON object");
  }

  SECTION("the guest's capabilities and stacks") {
    auto caps = vm->capabilities();
    REQUIRE(caps);
    CHECK(caps->protocol == 4);
    CHECK(caps->signal_process_supported);
    CHECK(caps->dump_stacks_supported);
    CHECK(caps->runtime_os_type == "Linux");
    CHECK(vm->signal_process_supported());
    CHECK(vm->delete_container_state_supported());
    auto stacks = vm->dump_stacks();
    REQUIRE(stacks);
    CHECK(stacks->find("thread ") != std::string::npos);
  }
  CHECK_FALSE(vm->close());
}

TEST_CASE("a container's init exit is one notification and one bus event; signals reach its "
          "processes",
          "[process][engine]") {
  uvm::test::host_dir host;
  uvm::engine eng{in_process_guest()};
  auto events = std::make_shared<container_events>();
  auto listener = eng.system().spawn(container_listener, eng.events(), events);
  // The listener ends before the engine, whatever the test's outcome.
  std::shared_ptr<void> stop_listener(nullptr, [listener](void*) {
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  });
  {
    caf::scoped_actor self{eng.system()};
    self->request(listener, caf::infinite, caf::ok_atom_v)
        .receive([](caf::ok_atom) {}, [](caf::error&) {});
  }
  auto vm = started_lcow(eng, host, "ctr-vm");

  auto c = vm->create_container("c1", container_config({"sh", "-c", "read x; echo got $x"}),
                                "11111111-2222-3333-4444-555555555555");
  REQUIRE(c);
  REQUIRE_FALSE(c->start());
  uvm::process_parameters pipes;
  pipes.create_stdin = pipes.create_stdout = pipes.create_stderr = true;
  auto init = c->create_process(pipes.to_json());
  REQUIRE(init);
  CHECK(init->container_id() == "c1");

  // A second process in the container, signalled.
  uvm::process_parameters exec;
  exec.oci_process = R"({"args":["sleep","30"],"cwd":"/"})";
  auto sleeper = c->create_process(exec.to_json());
  REQUIRE(sleeper);
  auto delivered = sleeper->signal(15);
  REQUIRE(delivered);
  CHECK(*delivered);
  CHECK(*sleeper->wait() == 128 + 15);
  // Signalling it again: the guest no longer knows the process.
  auto again = sleeper->kill();
  REQUIRE(again);

  auto output = init->communicate("hello\n");
  REQUIRE(output);
  CHECK(output->out == "got hello\n");
  CHECK(*init->wait() == 0);
  REQUIRE_FALSE(c->wait());
  {
    std::unique_lock<std::mutex> lock{events->m};
    events->cv.wait_for(lock, 5s, [&] { return !events->seen.empty(); });
  }
  std::this_thread::sleep_for(100ms); // a duplicate would have arrived by now
  {
    std::lock_guard<std::mutex> lock{events->m};
    REQUIRE(events->seen.size() == 1);
    CHECK(events->seen[0].vm_id == "ctr-vm");
    CHECK(events->seen[0].container_id == "c1");
    CHECK(events->seen[0].activity_id == "11111111-2222-3333-4444-555555555555");
    CHECK(events->seen[0].type == "UnexpectedExit");
  }
  CHECK_FALSE(c->shutdown()); // already gone: stopped
  auto dup = vm->create_container("c1", container_config({"true"}));
  REQUIRE_FALSE(dup);
  CHECK(dup.err().text.rfind("failed to create container c1: guest RPC failure: ", 0) == 0);
  // Once its state is deleted, the id can be used again.
  CHECK_FALSE(vm->delete_container_state("c1"));
  CHECK(vm->create_container("c1", container_config({"true"})));
  // Processes of the VM itself cannot be signalled over the bridge (§7.7).
  auto uvm_proc = vm->create_process(shell("sleep 0.2"));
  REQUIRE(uvm_proc);
  auto sig = uvm_proc->signal(9);
  REQUIRE_FALSE(sig);
  CHECK(sig.err().text.rfind("guest RPC failure: ", 0) == 0);
  // The guest reports the exit once the output was consumed or closed.
  uvm_proc->close();
  CHECK(*uvm_proc->wait() == 0);

  CHECK_FALSE(vm->close());
}

TEST_CASE("a process being waited for fails with the VM's exit", "[process][engine]") {
  uvm::test::host_dir host;
  uvm::engine eng{in_process_guest()};
  auto vm = started_lcow(eng, host, "dying-vm");
  auto p = vm->create_process(shell("sleep 60"));
  REQUIRE(p);
  std::optional<uvm::result<uint32_t>> waited;
  std::thread waiter([&] { waited.emplace(p->wait()); });
  std::this_thread::sleep_for(100ms);
  auto t0 = std::chrono::steady_clock::now();
  eng.sim().crash("dying-vm");
  waiter.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  REQUIRE(waited);
  REQUIRE_FALSE(*waited);
  INFO(waited->err().text);
  CHECK(waited->err().text.find("dying-vm") != std::string::npos);
  // A call after the exit says the VM is not running.
  auto later = vm->create_process(shell("true"));
  REQUIRE_FALSE(later);
}

TEST_CASE("without a protocol guest, processes are refused clearly", "[process][engine]") {
  uvm::test::host_dir host;
  auto cfg = in_process_guest();
  cfg.guest = "stub";
  uvm::engine eng{cfg};
  auto vm = started_lcow(eng, host, "stub-vm");
  auto p = vm->create_process(shell("true"));
  REQUIRE_FALSE(p);
  CHECK(p.err().text.find("the stub guest runs no processes") == 0);
  auto caps = vm->capabilities();
  REQUIRE(caps);
  CHECK(caps->protocol == 4);
  auto w = eng.create_wcow(host.wcow("wcow-vm"));
  REQUIRE(w);
  REQUIRE_FALSE(w->start());
  CHECK_FALSE(w->delete_container_state_supported());
  CHECK(w->delete_container_state("c").text ==
        "uvm guest connection does not support deleteContainerState");
  CHECK(*w->dump_stacks() == "");
  CHECK_FALSE(w->close());
  CHECK_FALSE(vm->close());
}

TEST_CASE("a console process gets a pty that the host resizes", "[process][engine]") {
  uvm::test::host_dir host;
  uvm::engine eng{in_process_guest()};
  auto vm = started_lcow(eng, host, "tty-vm");
  nlohmann::json cfg = {{"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
                        {"OciSpecification",
                         {{"process",
                           {{"args", {"sh", "-c", "read x; stty size; test -t 1 && echo tty"}},
                            {"terminal", true},
                            {"consoleSize", {{"height", 10}, {"width", 20}}},
                            {"cwd", "/"}}}}}};
  auto c = vm->create_container("t1", cfg.dump());
  REQUIRE(c);
  REQUIRE_FALSE(c->start());
  uvm::process_parameters pipes;
  pipes.create_stdin = pipes.create_stdout = pipes.create_stderr = true;
  auto init = c->create_process(pipes.to_json());
  REQUIRE(init);
  CHECK_FALSE(init->resize_console(100, 30));
  auto output = init->communicate("go\n");
  REQUIRE(output);
  INFO(output->out);
  CHECK(output->out.find("30 100\r\n") != std::string::npos);
  CHECK(output->out.find("tty\r\n") != std::string::npos);
  CHECK(output->err.empty()); // a console has no stderr
  CHECK(*init->wait() == 0);

  // A console whose output nobody asked for is drained, so its process
  // does not block on a full pty.
  uvm::process_parameters unread;
  unread.oci_process = R"({"args":["seq","1","100000"],"terminal":true,"cwd":"/"})";
  auto noisy = c->create_process(unread.to_json());
  REQUIRE(noisy);
  CHECK(*noisy->wait() == 0);

  // Without a console there is nothing to resize.
  uvm::process_parameters plain;
  plain.oci_process = R"({"args":["sleep","0.1"],"cwd":"/"})";
  auto other = c->create_process(plain.to_json());
  REQUIRE(other);
  auto e = other->resize_console(80, 24);
  CHECK(e.text == "guest RPC failure: pid: " + std::to_string(other->pid()) +
                      ", is not a tty and cannot be resized");
  CHECK_FALSE(vm->close());
}

TEST_CASE("the in-process guest runs processes in a sandbox, in-process-unconfined on the host",
          "[process][engine][sandbox]") {
  if (::geteuid() != 0) {
    WARN("skipped: the sandbox needs root");
    return;
  }
  uvm::test::host_dir host;
  auto probe = "id -u; echo $$ $PPID; for p in /proc/[0-9]*; do echo ${p#/proc/}; done";
  {
    uvm::engine eng{in_process_guest()};
    auto vm = started_lcow(eng, host, "sandboxed-vm");
    auto p = vm->create_process(shell(probe));
    REQUIRE(p);
    auto output = p->communicate("");
    REQUIRE(output);
    CHECK(output->out == "65534\n2 1\n1\n2\n");
    CHECK(*p->wait() == 0);
    CHECK_FALSE(vm->close());
  }
  auto cfg = in_process_guest();
  cfg.guest = "in-process-unconfined";
  uvm::engine eng{cfg};
  auto vm = started_lcow(eng, host, "unconfined-vm");
  auto p = vm->create_process(shell("id -u; echo $$"));
  REQUIRE(p);
  auto output = p->communicate("");
  REQUIRE(output);
  CHECK(output->out == std::to_string(::geteuid()) + "\n" + std::to_string(p->pid()) + "\n");
  CHECK(*p->wait() == 0);
  CHECK_FALSE(vm->close());
}

TEST_CASE("a process in an exec: agent relays its output to the host", "[process][engine]") {
  uvm::test::host_dir host;
  auto cfg = in_process_guest();
  cfg.guest = std::string{"exec:"} + UVM_GCS_BINARY + " --stdio";
  uvm::engine eng{cfg};
  auto vm = started_lcow(eng, host, "exec-vm");
  auto p = vm->create_process(shell("cat; echo done >&2", true));
  REQUIRE(p);
  auto output = p->communicate("through the gcs binary\n");
  REQUIRE(output);
  CHECK(output->out == "through the gcs binary\n");
  CHECK(output->err == "done\n");
  CHECK(*p->wait() == 0);
  CHECK_FALSE(vm->close());
}
