// Our guest agent's service driven frame by frame with the host's stdio
// channels: real processes, their output through the relays, exit codes
// after the close handshake, a WaitForProcess timeout, and the exit
// notification of a container. Runs under TSan with the agent's threads.
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge/rpc_messages.hpp"
#include "bridge/stdio_mux.hpp"
#include "bridge/stdio_relay.hpp"
#include "guest/service.hpp"

using namespace std::chrono_literals;
namespace bridge = uvm::bridge;

namespace {

// Collects what the service sends, for the test thread to wait on.
struct outbox {
  std::mutex m;
  std::condition_variable cv;
  std::vector<bridge::frame> frames;

  bridge::frame wait_for(uint32_t type, uint64_t id) {
    std::unique_lock<std::mutex> lock{m};
    bridge::frame found;
    bool ok = cv.wait_for(lock, 10s, [&] {
      for (auto& f : frames) {
        if (f.type == type && f.id == id) {
          found = f;
          return true;
        }
      }
      return false;
    });
    REQUIRE(ok);
    return found;
  }
};

struct agent {
  std::filesystem::path dir;
  outbox out;
  std::unique_ptr<uvm::guest::service> svc;
  uint64_t next_id = 1;

  // `dial_stdio`: how the agent reaches the relays; the folder's sockets
  // when empty. `confine`: sandboxed (the default) or unconfined, as gcs
  // runs in a VM.
  explicit agent(std::function<uvm::result<int>(uint32_t)> dial_stdio = {},
                 uvm::guest::confinement confine = uvm::guest::confinement::sandboxed) {
    auto p = (std::filesystem::temp_directory_path() / "uvm-agent-XXXXXX").string();
    REQUIRE(::mkdtemp(p.data()) != nullptr);
    dir = p;
    uvm::guest::service_options opts;
    opts.stdio_dir = dir.string();
    opts.dial_stdio = std::move(dial_stdio);
    opts.confine = confine;
    svc = std::make_unique<uvm::guest::service>(
        opts, [this](uint32_t type, uint64_t id, const std::string& body) {
          std::lock_guard<std::mutex> lock{out.m};
          out.frames.push_back({type, id, body});
          out.cv.notify_all();
        });
    auto r = call(bridge::rpc::negotiate_protocol, bridge::encode(bridge::negotiate_request{}));
    REQUIRE(r.ok());
  }
  ~agent() {
    svc.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  uint64_t send(bridge::rpc r, const std::string& body) {
    auto id = next_id++;
    svc->handle({bridge::request_type(r), id, body});
    return id;
  }
  bridge::response answer(bridge::rpc r, uint64_t id) {
    auto f = out.wait_for(bridge::response_type(r), id);
    auto resp = bridge::parse_response(f.body);
    REQUIRE(resp);
    return *resp;
  }
  bridge::response call(bridge::rpc r, const std::string& body) { return answer(r, send(r, body)); }
};

std::string params(const std::vector<std::string>& args, bool in, bool out, bool err) {
  nlohmann::json p = {{"CommandArgs", args},
                      {"CreateStdInPipe", in},
                      {"CreateStdOutPipe", out},
                      {"CreateStdErrPipe", err}};
  return p.dump();
}

} // namespace

TEST_CASE("the agent runs a real process and reports its exit after the output was read",
          "[guest]") {
  agent a;
  bridge::process_stdio stdio;
  auto in = bridge::stdio_channel::listen(a.dir.string(), 11);
  auto out = bridge::stdio_channel::listen(a.dir.string(), 12);
  auto err = bridge::stdio_channel::listen(a.dir.string(), 13);
  REQUIRE((in && out && err));
  stdio.in = std::move(*in);
  stdio.out = std::move(*out);
  stdio.err = std::move(*err);
  bridge::execute_process_request req;
  req.base.container_id = bridge::zero_guid;
  req.process_parameters =
      params({"sh", "-c", "tr a-z A-Z; echo bye >&2; exit 5"}, true, true, true);
  req.ports = {11, 12, 13};
  auto started = a.call(bridge::rpc::execute_process, bridge::encode(req));
  REQUIRE(started.ok());
  bridge::wait_for_process_request w;
  w.base.container_id = bridge::zero_guid;
  w.process_id = *started.process_id;
  auto wait_id = a.send(bridge::rpc::wait_for_process, bridge::encode(w));
  auto output = stdio.communicate("shout\n");
  REQUIRE(output);
  CHECK(output->out == "SHOUT\n");
  CHECK(output->err == "bye\n");
  auto exit = a.answer(bridge::rpc::wait_for_process, wait_id);
  REQUIRE(exit.ok());
  CHECK(exit.exit_code == 5u);
}

TEST_CASE("a process's stdio goes through the stdio mux as it would in a VM",
          "[guest][stdio_mux]") {
  // The guest's endpoint as gcs --stdio-port makes it, the host's as the
  // qemu: link does, joined by a socketpair in place of QEMU's port.
  int port[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, port) == 0);
  auto guest_mux = bridge::stdio_mux::guest(port[0]);
  REQUIRE(guest_mux);
  agent a{[mux = guest_mux->get()](uint32_t p) { return mux->dial(p); },
          uvm::guest::confinement::unconfined};
  auto host_mux = bridge::stdio_mux::host(port[1], a.dir.string());
  REQUIRE(host_mux);
  bridge::process_stdio stdio;
  auto in = bridge::stdio_channel::listen(a.dir.string(), 0x40000001);
  auto out = bridge::stdio_channel::listen(a.dir.string(), 0x40000002);
  REQUIRE((in && out));
  stdio.in = std::move(*in);
  stdio.out = std::move(*out);
  bridge::execute_process_request req;
  req.base.container_id = bridge::zero_guid;
  req.process_parameters = params({"cat"}, true, true, false);
  req.ports = {0x40000001, 0x40000002, 0};
  auto started = a.call(bridge::rpc::execute_process, bridge::encode(req));
  REQUIRE(started.ok());
  bridge::wait_for_process_request w;
  w.base.container_id = bridge::zero_guid;
  w.process_id = *started.process_id;
  auto wait_id = a.send(bridge::rpc::wait_for_process, bridge::encode(w));
  std::string lines;
  for (int i = 0; i < 100000; ++i) {
    lines += "line " + std::to_string(i) + "\n";
  }
  auto output = stdio.communicate(lines);
  REQUIRE(output);
  CHECK(output->out == lines);
  auto exit = a.answer(bridge::rpc::wait_for_process, wait_id);
  REQUIRE(exit.ok());
  CHECK(exit.exit_code == 0u);
}

TEST_CASE("a WaitForProcess with a timeout gives up with 0xC0370109", "[guest]") {
  agent a;
  bridge::execute_process_request req;
  req.base.container_id = bridge::zero_guid;
  req.process_parameters = params({"sleep", "5"}, false, false, false);
  auto started = a.call(bridge::rpc::execute_process, bridge::encode(req));
  REQUIRE(started.ok());
  bridge::wait_for_process_request w;
  w.base.container_id = bridge::zero_guid;
  w.process_id = *started.process_id;
  w.timeout_ms = 50;
  auto timed_out = a.call(bridge::rpc::wait_for_process, bridge::encode(w));
  CHECK(timed_out.result == bridge::hresult::wait_timeout);
}

TEST_CASE("a container's init exit sends one notification with the Create's ActivityId",
          "[guest]") {
  agent a;
  bridge::create_request create;
  create.base = {"c1", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"};
  create.container_config =
      R"({"SchemaVersion":{"Major":2,"Minor":1},"OciSpecification":{"process":{"args":["true"],"cwd":"/"}}})";
  REQUIRE(a.call(bridge::rpc::create, bridge::encode(create)).ok());
  REQUIRE(a.call(bridge::rpc::start, bridge::encode(bridge::request_base{"c1", bridge::zero_guid}))
              .ok());
  bridge::execute_process_request req;
  req.base.container_id = "c1";
  req.process_parameters = params({}, false, false, false);
  REQUIRE(a.call(bridge::rpc::execute_process, bridge::encode(req)).ok());
  auto note = a.out.wait_for(bridge::notify_container, 0);
  auto n = bridge::parse_notification(note.body);
  REQUIRE(n);
  CHECK(n->container_id == "c1");
  CHECK(n->activity_id == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  std::this_thread::sleep_for(100ms);
  std::lock_guard<std::mutex> lock{a.out.m};
  CHECK(std::count_if(a.out.frames.begin(), a.out.frames.end(), [](const bridge::frame& f) {
          return f.type == bridge::notify_container;
        }) == 1);
}

TEST_CASE("a container with an OCI root.path runs its processes chrooted there", "[guest]") {
  // Unconfined, as gcs runs in a VM (the sandbox's own root handling is in
  // sandbox_test.cpp).
  agent a{{}, uvm::guest::confinement::unconfined};
  auto create_with_root = [&](const std::string& id, const std::string& root) {
    bridge::create_request create;
    create.base = {id, bridge::zero_guid};
    nlohmann::json config = {
        {"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
        {"OciSpecification",
         {{"root", {{"path", root}}},
          {"process", {{"args", {"sh", "-c", "pwd > " + (a.dir / "pwd").string()}}}}}}};
    create.container_config = config.dump();
    REQUIRE(a.call(bridge::rpc::create, bridge::encode(create)).ok());
    bridge::execute_process_request req;
    req.base.container_id = id;
    req.process_parameters = params({}, false, false, false);
    return a.call(bridge::rpc::execute_process, bridge::encode(req));
  };
  auto missing = (a.dir / "no-rootfs").string();
  auto failed = create_with_root("c1", missing);
  CHECK(failed.result == bridge::hresult::fail);
  CHECK(failed.error_message == "chroot " + missing + ": no such file or directory");
  if (::geteuid() != 0) {
    return; // chroot(2) needs CAP_SYS_CHROOT
  }
  // The host's own root, so that sh is there: the process starts at "/".
  REQUIRE(create_with_root("c2", "/").ok());
  a.out.wait_for(bridge::notify_container, 0);
  std::ifstream in{a.dir / "pwd"};
  std::string pwd;
  std::getline(in, pwd);
  CHECK(pwd == "/");
}

TEST_CASE("the agent sandboxes its processes unless told to run them unconfined", "[guest]") {
  if (::geteuid() != 0) {
    WARN("skipped: the sandbox needs root");
    return;
  }
  auto uid_of = [](agent& a) {
    bridge::process_stdio stdio;
    auto out = bridge::stdio_channel::listen(a.dir.string(), 21);
    REQUIRE(out);
    stdio.out = std::move(*out);
    bridge::execute_process_request req;
    req.base.container_id = bridge::zero_guid;
    req.process_parameters = params({"sh", "-c", "id -u; echo $$"}, false, true, false);
    req.ports = {0, 21, 0};
    auto started = a.call(bridge::rpc::execute_process, bridge::encode(req));
    REQUIRE(started.ok());
    auto output = stdio.communicate("");
    REQUIRE(output);
    return std::make_pair(output->out, *started.process_id);
  };
  agent sandboxed;
  auto [inside, pid] = uid_of(sandboxed);
  CHECK(inside == "65534\n2\n");
  CHECK(pid != 2u); // the host's pid of the sandbox
  agent unconfined{{}, uvm::guest::confinement::unconfined};
  auto [host, host_pid] = uid_of(unconfined);
  CHECK(host == "0\n" + std::to_string(host_pid) + "\n");
}
