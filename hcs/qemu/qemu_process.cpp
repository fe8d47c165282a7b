#include "hcs/qemu/qemu_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace uvm::hcs::qemu {

qemu_process::~qemu_process() {
  if (pid_ > 0 && !reaped_) {
    kill();
  }
}

namespace {

// In the child, between fork and exec: only async-signal-safe calls.
void fail_child(const char* what) {
  dprintf(2, "uvm: %s: %s\n", what, std::strerror(errno));
  ::_exit(127);
}

void confine_child(const qemu_confinement& who, const char* cgroup_procs) {
  if (cgroup_procs != nullptr) {
    int fd = ::open(cgroup_procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0\n", 2) != 2) {
      fail_child("join cgroup");
    }
    ::close(fd);
  }
  gid_t group = who.group;
  if (::setgroups(1, &group) != 0) {
    fail_child("setgroups");
  }
  if (::setresgid(group, group, group) != 0) {
    fail_child("setgid");
  }
  if (::setresuid(who.uid, who.uid, who.uid) != 0) {
    fail_child("setuid");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fail_child("no_new_privs");
  }
}

} // namespace

error qemu_process::launch(const std::vector<std::string>& argv, const std::string& log,
                           const qemu_confinement& who, const std::string& note) {
  int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    return error{errc::io_failure, "open " + log + ": " + std::strerror(errno)};
  }
  if (!note.empty()) {
    dprintf(out, "uvm: %s\n", note.c_str());
  }
  auto cgroup_procs = who.cgroup.empty() ? std::string{} : who.cgroup + "/cgroup.procs";
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    return error{errc::io_failure, std::string{"fork: "} + std::strerror(errno)};
  }
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::setpgid(0, 0);
    if (who.confined()) {
      confine_child(who, cgroup_procs.empty() ? nullptr : cgroup_procs.c_str());
    }
    // A VM must not outlive the engine that manages it. After the uid
    // change, which clears the parent-death signal.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::execvp(args[0], args.data());
    dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out);
  pid_ = pid;
  reaped_ = false;
  ended_.clear();
  return {};
}

bool qemu_process::running() {
  return pid_ > 0 && !reap(std::chrono::milliseconds(0));
}

bool qemu_process::reap(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || reaped_) {
    return true;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      ended_ = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                   : "exit status " + std::to_string(WEXITSTATUS(status));
      return true;
    }
    if (r < 0 && errno != EINTR) {
      reaped_ = true;
      ended_ = std::string{"lost: "} + std::strerror(errno);
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void qemu_process::kill() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    reap(std::chrono::seconds(10));
  }
}

std::string log_tail(const std::string& path, size_t lines) {
  std::ifstream in{path};
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    // QEMU's notice that it waits for the backend's QMP connection is no error.
    if (line.empty() || line.find("info: QEMU waiting for connection") != std::string::npos) {
      continue;
    }
    last.push_back(line);
    if (last.size() > lines) {
      last.pop_front();
    }
  }
  std::string out;
  for (const auto& l : last) {
    out += (out.empty() ? "" : "; ") + l;
  }
  return out;
}

} // namespace uvm::hcs::qemu
