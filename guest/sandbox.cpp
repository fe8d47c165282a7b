#include "guest/sandbox.hpp"

#include "guest/errno_text.hpp"
#include "guest/sandbox_child.hpp"
#include "guest/sandbox_root.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace uvm::guest {

namespace {

using sandbox_child::failure;
using sandbox_child::plan;
using sandbox_child::step;

constexpr const char* default_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string describe(const failure& f, const plan& p, const std::vector<std::string>& args) {
  auto why = ": " + errno_text(f.err);
  switch (static_cast<step>(f.what)) {
  case step::open_root:
    return "sandbox: open the container's root " + p.root + why;
  case step::cgroup_namespace:
    return "sandbox: new cgroup namespace" + why;
  case step::drop_groups:
    return "sandbox: drop the supplementary groups" + why;
  case step::set_gid:
    return "sandbox: take gid " + std::to_string(p.gid) + why;
  case step::set_uid:
    return "sandbox: take uid " + std::to_string(p.uid) + why;
  case step::hostname:
    return "sandbox: set the host name" + why;
  case step::loopback:
    return "sandbox: bring up the loopback interface" + why;
  case step::private_mounts:
    return "sandbox: make the mounts private" + why;
  case step::fs:
    if (f.index >= 0 && static_cast<size_t>(f.index) < p.steps.size()) {
      return "sandbox: " + p.steps[static_cast<size_t>(f.index)].description + why;
    }
    break;
  case step::pivot_root:
    return "sandbox: pivot into the new root" + why;
  case step::no_new_privs:
    return "sandbox: set no_new_privs" + why;
  case step::drop_capabilities:
    return "sandbox: drop the capabilities" + why;
  case step::signals:
    return "sandbox: take the init's signals" + why;
  case step::fork_program:
    return "sandbox: fork the program" + why;
  case step::chdir:
    return "chdir " + p.cwd + why;
  case step::exec:
    return "exec " + args[0] + why;
  }
  return "sandbox: step " + std::to_string(f.what) + why;
}

// The candidates for args[0], as execvp would try them.
std::vector<std::string> candidates(const std::string& file, const std::string& path) {
  if (file.find('/') != std::string::npos) {
    return {file};
  }
  std::vector<std::string> found;
  size_t start = 0;
  for (;;) {
    auto end = path.find(':', start);
    auto dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    found.push_back((dir.empty() ? std::string{"."} : dir) + "/" + file);
    if (end == std::string::npos) {
      return found;
    }
    start = end + 1;
  }
}

error write_map(pid_t pid, const char* file, uint32_t id) {
  auto path = "/proc/" + std::to_string(pid) + "/" + file;
  auto line = std::to_string(id) + " " + std::to_string(id) + " 1\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  int err = errno;
  if (fd >= 0) {
    ::close(fd);
  }
  if (!ok) {
    return error{errc::io_failure, std::string{"sandbox: map "} +
                                       (file[0] == 'u' ? "uid " : "gid ") + std::to_string(id) +
                                       " into the user namespace: " + errno_text(err)};
  }
  return {};
}

// The read end of a pipe whose write end this process holds until it ends:
// an init hears from it that the engine is gone.
int engine_lifeline() {
  static const int read_end = [] {
    int ends[2] = {-1, -1};
    if (::pipe2(ends, O_CLOEXEC) != 0) {
      return -1;
    }
    return ends[0]; // the write end stays open for the engine's lifetime
  }();
  return read_end;
}

ssize_t read_fully(int fd, void* buf, size_t size) {
  size_t done = 0;
  while (done < size) {
    auto n = ::read(fd, static_cast<char*>(buf) + done, size - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

} // namespace

result<sandboxed_process> start_sandboxed(const sandbox_options& options,
                                          const sandbox_program& program) {
  if (program.args.empty()) {
    return error{errc::io_failure, "no command to run"};
  }
  if (options.uid == 0 || options.gid == 0) {
    return error{errc::bad_request, "sandbox: the sandbox's uid and gid must not be 0"};
  }
  sandboxed_process started;
  if (const auto& layout = host_cgroups()) {
    auto cg = cgroup::create(*layout, cgroup::next_name(), options.limits);
    if (!cg) {
      return error{errc::io_failure, "sandbox: " + cg.err().text};
    }
    started.limits = std::move(*cg);
  }
  plan p;
  p.in = program.in;
  p.out = program.out;
  p.err = program.err;
  p.root = program.root;
  p.terminal = program.terminal;
  p.uid = options.uid;
  p.gid = options.gid;
  p.hostname = options.hostname;
  root_input root;
  root.staging = sandbox_child::staging;
  root.uid = options.uid;
  root.gid = options.gid;
  root.hostname = options.hostname;
  root.tmp_bytes = options.tmp_bytes;
  if (!program.root.empty()) {
    root.container_root = "/proc/self/fd/" + std::to_string(sandbox_child::root_slot);
    root.container_label = program.root;
  } else {
    root.top = host_top_entries();
  }
  p.steps = root_steps(root);
  p.cwd = program.cwd.empty() ? "/" : program.cwd;
  // Nothing of the engine's environment crosses into the sandbox.
  auto env = program.env;
  if (env.empty()) {
    env["PATH"] = default_path;
  }
  auto path = env.find("PATH");
  p.candidates = candidates(program.args[0], path != env.end() ? path->second : default_path);
  for (const auto& a : program.args) {
    p.argv.push_back(const_cast<char*>(a.c_str()));
  }
  p.argv.push_back(nullptr);
  for (const auto& [k, v] : env) {
    p.env_strings.push_back(k + "=" + v);
  }
  for (auto& e : p.env_strings) {
    p.envp.push_back(e.data());
  }
  p.envp.push_back(nullptr);

  // The engine's go (after the id maps) and the init's failures.
  int sync[2] = {-1, -1}, status[2] = {-1, -1};
  auto close_pipes = [&] {
    for (int fd : {sync[0], sync[1], status[0], status[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  };
  // A socket for the go: a send to an init that died is EPIPE, not SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) != 0 ||
      ::pipe2(status, O_CLOEXEC) != 0) {
    auto why = errno_text(errno);
    close_pipes();
    return error{errc::io_failure, "sandbox: pipe: " + why};
  }
  p.sync = sync[0];
  p.status = status[1];
  p.engine = engine_lifeline();
  if (p.engine < 0) {
    close_pipes();
    return error{errc::io_failure, "sandbox: pipe: " + errno_text(errno)};
  }
  // The init starts in its namespaces, on a stack of its own in its copy
  // of the engine's memory. clone(2) rather than unshare(2): a new user
  // namespace cannot be entered by a process with threads.
  constexpr size_t stack_size = 1 << 20;
  void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    auto why = errno_text(errno);
    close_pipes();
    return error{errc::io_failure, "sandbox: stack: " + why};
  }
  pid_t init = ::clone(sandbox_child::init_main, static_cast<char*>(stack) + stack_size,
                       CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                           CLONE_NEWUTS | SIGCHLD,
                       &p);
  int clone_errno = errno;
  ::munmap(stack, stack_size);
  for (int* fd : {&sync[0], &status[1]}) {
    ::close(*fd);
    *fd = -1;
  }
  if (init < 0) {
    close_pipes();
    return error{errc::io_failure,
                 "sandbox: new user, mount, pid, network, ipc and uts namespaces: " +
                     errno_text(clone_errno)};
  }
  // Map its ids, put it in its cgroup, let it go.
  auto setup = write_map(init, "uid_map", options.uid);
  if (!setup) {
    setup = write_map(init, "gid_map", options.gid);
  }
  if (!setup && started.limits) {
    if (auto e = started.limits->add(init)) {
      setup = error{errc::io_failure, "sandbox: " + e.text};
    }
  }
  char go = 1;
  if (!setup && ::send(sync[1], &go, 1, MSG_NOSIGNAL) != 1) {
    setup = error{errc::io_failure, "sandbox: hand-shake: " + errno_text(errno)};
  }
  ::close(sync[1]);
  sync[1] = -1;
  if (setup) {
    ::kill(init, SIGKILL);
  }
  failure f;
  auto n = read_fully(status[0], &f, sizeof f);
  close_pipes();
  if (setup || n == static_cast<ssize_t>(sizeof f)) {
    ::waitpid(init, nullptr, 0);
    if (setup) {
      return setup;
    }
    return error{errc::io_failure, describe(f, p, program.args)};
  }
  started.pid = init;
  return started;
}

} // namespace uvm::guest
