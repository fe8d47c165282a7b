// Processes in the sandbox of the in-process guest (guest/sandbox.hpp),
// started as the agent starts them (process::start with sandbox options)
// and checked from inside and from the host: a non-root uid without
// capabilities, pid 2 under an init that is pid 1, no host process in
// sight, no write outside its root, no way to the host's loopback ports,
// signals and exit codes as without the sandbox, a console, a container's
// own root, the start's errors, and a fork bomb held by the pids limit.
// Needs root (the engine maps the sandbox's ids); elsewhere each test says
// it is skipped.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest/process.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using uvm::guest::process;
using uvm::guest::process_spec;

namespace {

bool can_sandbox() {
  if (::geteuid() == 0) {
    return true;
  }
  WARN("skipped: the sandbox maps its ids into a user namespace, which needs root");
  return false;
}

process_spec sandboxed(std::vector<std::string> args) {
  process_spec spec;
  spec.args = std::move(args);
  spec.sandbox = uvm::guest::sandbox_options{};
  return spec;
}

process_spec shell(const std::string& script) {
  return sandboxed({"sh", "-c", script});
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// A started process with the host's ends of its stdout and stderr.
struct running {
  std::shared_ptr<process> proc;
  int out = -1;
  int err = -1;
  int in = -1;

  ~running() {
    for (int fd : {out, err, in}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
};

std::unique_ptr<running> start(const process_spec& spec, bool with_stdin = false) {
  int out[2], err[2], in[2] = {-1, -1};
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err) == 0);
  if (with_stdin) {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == 0);
  }
  auto r = std::make_unique<running>();
  r->out = out[0];
  r->err = err[0];
  r->in = in[0];
  auto p = process::start(spec, {in[1], out[1], err[1]});
  if (!p) {
    FAIL_CHECK(p.err().text);
    return nullptr;
  }
  r->proc = *p;
  return r;
}

struct outcome {
  std::string out;
  std::string err;
  uint32_t code = 0;
};

// Reads both streams to their end and waits (bounded) for the exit.
outcome finish(running& r, std::chrono::seconds limit = 30s) {
  outcome o;
  std::thread err_reader([&] { o.err = read_all(r.err); });
  o.out = read_all(r.out);
  err_reader.join();
  ::close(r.out);
  ::close(r.err);
  r.out = r.err = -1;
  auto code = r.proc->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(limit));
  if (!code) {
    r.proc->abandon();
    FAIL("the process did not end within " << limit.count() << " s");
  }
  o.code = *code;
  return o;
}

outcome run(const process_spec& spec) {
  auto r = start(spec);
  REQUIRE(r);
  return finish(*r);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    auto p = (fs::temp_directory_path() / "uvm-sandbox-XXXXXX").string();
    REQUIRE(::mkdtemp(p.data()) != nullptr);
    path = p;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The folder of a process's cgroup in the hierarchy of `controller` (v1)
// or the unified one, from the host's /proc.
std::string cgroup_folder(uint32_t pid, const std::string& controller) {
  const auto& layout = uvm::guest::host_cgroups();
  std::ifstream in{"/proc/" + std::to_string(pid) + "/cgroup"};
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    auto controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    bool match = layout->version == 2
                     ? line.rfind("0::", 0) == 0
                     : controllers.find("," + controller + ",") != std::string::npos;
    if (match) {
      auto path = line.substr(second + 1);
      auto parent = controller == "pids" ? layout->pids : layout->memory;
      return parent + path.substr(path.rfind('/'));
    }
  }
  return {};
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  auto s = out.str();
  while (!s.empty() && s.back() == '\n') {
    s.pop_back();
  }
  return s;
}

} // namespace

TEST_CASE("a sandboxed process is an unprivileged uid, pid 2 under an init that is pid 1, and "
          "sees no host process",
          "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  auto o = run(shell("id -u; id -g; id -G; echo $$ $PPID; cat /proc/1/comm; "
                     "for p in /proc/[0-9]*; do echo ${p#/proc/}; done; "
                     "grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs)' /proc/self/status; hostname"));
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  auto l = lines(o.out);
  REQUIRE(l.size() == 12);
  CHECK(l[0] == "65534");
  CHECK(l[1] == "65534");
  CHECK(l[2] == "65534"); // no supplementary group of the engine
  CHECK(l[3] == "2 1");
  CHECK(l[4] == "sandbox-init");
  // Only the init and the shell exist in its pid namespace.
  CHECK(l[5] == "1");
  CHECK(l[6] == "2");
  CHECK(l[7] == "CapPrm:\t0000000000000000");
  CHECK(l[8] == "CapEff:\t0000000000000000");
  CHECK(l[9] == "CapBnd:\t0000000000000000");
  CHECK(l[10] == "NoNewPrivs:\t1");
  CHECK(l[11] == "sandbox");

  SECTION("the host sees the process under its own pid, which ends with it") {
    auto r = start(shell("cat"), true);
    REQUIRE(r);
    auto pid = static_cast<pid_t>(r->proc->pid());
    CHECK(pid != static_cast<pid_t>(::getpid()));
    CHECK(::kill(pid, 0) == 0);
    ::close(r->in);
    r->in = -1;
    CHECK(finish(*r).code == 0);
  }
}

TEST_CASE("a sandboxed process cannot write outside its root", "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  temp_dir host;
  fs::permissions(host.path, fs::perms::all | fs::perms::sticky_bit); // writable by anyone
  auto marker = "uvm-sandbox-marker-" + std::to_string(::getpid());
  auto escape = (host.path / "escape").string();
  auto o = run(shell("for f in " + escape +
                     " /usr/escape /escape /etc/escape /bin/escape; do "
                     "echo x 2>/dev/null > $f && echo wrote $f; done; "
                     "test -e " +
                     host.path.string() +
                     " && echo sees the host folder; "
                     "test -e /etc/shadow && echo sees the host etc; "
                     "echo inside > /tmp/" +
                     marker + " && cat /tmp/" + marker));
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "inside\n");
  CHECK_FALSE(fs::exists(escape));
  CHECK_FALSE(fs::exists("/usr/escape"));
  CHECK_FALSE(fs::exists("/escape"));
  // Its /tmp is its own.
  CHECK_FALSE(fs::exists(fs::temp_directory_path() / marker));
}

TEST_CASE("a sandboxed process has loopback only and cannot reach the host's 127.0.0.1 ports",
          "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  auto port = std::to_string(ntohs(addr.sin_port));
  auto dial = "bash -c 'echo hello > /dev/tcp/127.0.0.1/" + port + "' && echo connected";

  auto o = run(shell("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; " + dial));
  INFO(o.out << o.err);
  CHECK(o.out == "lo\n");
  // Refused by its own loopback (which is up), not unreachable.
  CHECK(o.err.find("Connection refused") != std::string::npos);
  CHECK(::accept(listener, nullptr, nullptr) < 0);

  // The same dial unconfined reaches the listener: the check above can fail.
  auto unconfined = shell(dial);
  unconfined.sandbox.reset();
  auto u = run(unconfined);
  CHECK(u.out == "connected\n");
  int conn = ::accept(listener, nullptr, nullptr);
  CHECK(conn >= 0);
  if (conn >= 0) {
    ::close(conn);
  }
  ::close(listener);
}

TEST_CASE("signals and exit codes pass through the sandbox's init", "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  CHECK(run(shell("exit 7")).code == 7);

  auto term =
      start(shell("trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done"));
  REQUIRE(term);
  char ready[6] = {};
  REQUIRE(::read(term->out, ready, sizeof ready) == 6);
  CHECK(term->proc->signal(SIGTERM));
  auto t = finish(*term);
  CHECK(t.out == "got TERM\n");
  CHECK(t.code == 3);

  auto plain = start(sandboxed({"sleep", "30"}));
  REQUIRE(plain);
  std::this_thread::sleep_for(100ms);
  CHECK(plain->proc->signal(SIGTERM));
  CHECK(finish(*plain).code == 128 + SIGTERM);

  // A kill ends the whole namespace, even what holds the output open.
  auto killed = start(shell("sleep 60 & echo started; wait"));
  REQUIRE(killed);
  char started[8] = {};
  REQUIRE(::read(killed->out, started, sizeof started) == 8);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(killed->proc->signal(SIGKILL));
  CHECK(finish(*killed, 10s).code == 128 + SIGKILL);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK_FALSE(killed->proc->signal(SIGTERM)); // gone
}

TEST_CASE("a sandboxed console is a pty that is the program's terminal", "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  auto spec = shell("stty size; test -t 0 && test -t 1 && echo tty; : < /dev/tty && echo ctty");
  spec.terminal = true;
  spec.rows = 12;
  spec.cols = 34;
  auto o = run(spec);
  INFO(o.out);
  CHECK(o.out == "12 34\r\ntty\r\nctty\r\n");
  CHECK(o.code == 0);
}

TEST_CASE("a sandboxed container process has the container's root as its own", "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  if (!fs::exists("/usr/bin/busybox")) {
    WARN("skipped: no static busybox to fill a container root with");
    return;
  }
  temp_dir host;
  // The sandbox's uid opens the root: it must be able to walk to it.
  fs::permissions(host.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  auto root = host.path / "rootfs";
  for (const char* dir : {"bin", "proc", "dev", "tmp"}) {
    fs::create_directories(root / dir);
  }
  fs::permissions(root / "tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::copy_file("/usr/bin/busybox", root / "bin" / "busybox");
  fs::create_symlink("busybox", root / "bin" / "sh");
  auto spec = sandboxed({"/bin/sh", "-c",
                         "/bin/busybox ls /; echo $$; /bin/busybox cat /proc/1/comm; "
                         "echo kept > /tmp/written; if test -e /usr; then echo sees the host; fi"});
  spec.root = root.string();
  auto o = run(spec);
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK(o.out == "bin\ndev\nproc\ntmp\n2\nsandbox-init\n");
  // The container's root is its writable layer.
  CHECK(read_file((root / "tmp" / "written").string()) == "kept");

  SECTION("a root that is not there, or that the sandbox's uid cannot reach, is the start's "
          "error") {
    auto missing = sandboxed({"/bin/sh"});
    missing.root = (host.path / "none").string();
    auto p = process::start(missing, {});
    REQUIRE_FALSE(p);
    CHECK(p.err().text ==
          "sandbox: open the container's root " + missing.root + ": no such file or directory");
    fs::permissions(host.path, fs::perms::owner_all);
    auto hidden = sandboxed({"/bin/sh"});
    hidden.root = root.string();
    auto h = process::start(hidden, {});
    REQUIRE_FALSE(h);
    CHECK(h.err().text ==
          "sandbox: open the container's root " + hidden.root + ": permission denied");
  }
  SECTION("a root without /proc and /dev gets neither") {
    fs::remove(root / "proc");
    fs::remove(root / "dev");
    auto bare = sandboxed({"/bin/busybox", "ls", "/"});
    bare.root = root.string();
    auto b = run(bare);
    CHECK(b.out == "bin\ntmp\n");
    CHECK(b.code == 0);
  }
}

TEST_CASE("a sandboxed process that cannot start says why", "[sandbox]") {
  if (!can_sandbox()) {
    return;
  }
  auto missing = process::start(sandboxed({"/no/such/program"}), {});
  REQUIRE_FALSE(missing);
  CHECK(missing.err().text == "exec /no/such/program: no such file or directory");
  auto unknown = process::start(sandboxed({"no-such-program-anywhere"}), {});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().text == "exec no-such-program-anywhere: no such file or directory");
  auto cwd = sandboxed({"true"});
  cwd.cwd = "/no/such/folder";
  auto in_missing = process::start(cwd, {});
  REQUIRE_FALSE(in_missing);
  CHECK(in_missing.err().text == "chdir /no/such/folder: no such file or directory");
  auto root_uid = sandboxed({"true"});
  root_uid.sandbox->uid = 0;
  auto as_root = process::start(root_uid, {});
  REQUIRE_FALSE(as_root);
  CHECK(as_root.err().text == "sandbox: the sandbox's uid and gid must not be 0");
  // The environment is the process's own: nothing of the engine's.
  ::setenv("UVM_SANDBOX_SECRET", "leaked", 1);
  auto env = run(shell("echo ${UVM_SANDBOX_SECRET:-none} $PATH"));
  ::unsetenv("UVM_SANDBOX_SECRET");
  CHECK(env.out == "none /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
}

TEST_CASE("a sandboxed process gets a cgroup with its limits, removed at its end",
          "[sandbox][cgroup]") {
  if (!can_sandbox()) {
    return;
  }
  const auto& layout = uvm::guest::host_cgroups();
  if (!layout) {
    WARN("skipped: " << layout.err().text);
    return;
  }
  auto spec = sandboxed({"sleep", "30"});
  spec.sandbox->limits.pids = 40;
  spec.sandbox->limits.memory_bytes = 64ull << 20;
  auto r = start(spec);
  REQUIRE(r);
  auto pids = cgroup_folder(r->proc->pid(), "pids");
  auto memory = cgroup_folder(r->proc->pid(), "memory");
  REQUIRE_FALSE(pids.empty());
  CHECK(read_file(pids + "/pids.max") == "40");
  CHECK(read_file(memory + (layout->version == 1 ? "/memory.limit_in_bytes" : "/memory.max")) ==
        std::to_string(64ull << 20));
  // The process sees its cgroup as the root of its own cgroup namespace.
  auto o = run(shell("cat /proc/self/cgroup"));
  for (const auto& l : lines(o.out)) {
    CHECK(l.substr(l.rfind(':')) == ":/");
  }
  CHECK(r->proc->signal(SIGKILL));
  finish(*r);
  CHECK_FALSE(fs::exists(pids));
  CHECK_FALSE(fs::exists(memory));

  SECTION("a process that goes over its memory limit is killed") {
    if (!fs::exists("/usr/bin/python3")) {
      WARN("skipped: no python3 to allocate with");
      return;
    }
    auto allocate = [&](int mib) {
      auto p = sandboxed({"python3", "-c",
                          "x = bytearray(" + std::to_string(mib) + " << 20); print('allocated')"});
      p.sandbox->limits.memory_bytes = 64ull << 20;
      return run(p);
    };
    auto small = allocate(16);
    CHECK(small.out == "allocated\n");
    CHECK(small.code == 0);
    auto big = allocate(256);
    CHECK(big.out.empty());
    CHECK(big.code == 128 + SIGKILL);
  }
}

TEST_CASE("a fork bomb in the sandbox is stopped by its pids limit without harming the engine",
          "[sandbox][cgroup]") {
  if (!can_sandbox()) {
    return;
  }
  const auto& layout = uvm::guest::host_cgroups();
  if (!layout) {
    WARN("skipped: " << layout.err().text);
    return;
  }
  // A bomb with an end, should the limit not hold: each shell forks two
  // more down to depth 8 (511 shells and as many sleeps at most), then
  // sleeps 3 s; a shell that cannot fork ends. The top shell forks its own
  // sleep first, so that it outlives the bomb.
  auto bomb = shell("b() { if [ $1 -lt 8 ]; then b $(($1+1)) & b $(($1+1)) & fi; sleep 3; "
                    "wait; }; sleep 4 & b 0 & wait");
  bomb.sandbox->limits.pids = 16;
  auto r = start(bomb);
  REQUIRE(r);
  auto pids = cgroup_folder(r->proc->pid(), "pids");
  REQUIRE_FALSE(pids.empty());
  uint64_t most = 0;
  std::string events;
  for (int i = 0; i < 300 && !r->proc->exited(); ++i) {
    auto current = read_file(pids + "/pids.current");
    if (!current.empty()) {
      most = std::max<uint64_t>(most, std::stoull(current));
    }
    auto e = read_file(pids + "/pids.events");
    if (!e.empty()) {
      events = e;
    }
    std::this_thread::sleep_for(10ms);
  }
  auto o = finish(*r, 30s);
  INFO(o.err.substr(0, 400));
  CHECK(most <= 16);
  // The kernel refused forks at the limit, and the shells said so.
  CHECK(events.rfind("max ", 0) == 0);
  CHECK(events != "max 0");
  CHECK(o.err.find("Cannot fork") != std::string::npos);
  CHECK_FALSE(fs::exists(pids));
  // The engine goes on starting processes.
  CHECK(run(shell("echo after")).out == "after\n");
}
