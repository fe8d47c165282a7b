#include "guest/sandbox_child.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace uvm::guest::sandbox_child {

namespace {

// Ends the process at once: nothing of the engine's (atexit handlers, a
// sanitizer's end-of-process checks over its copy of the engine) runs.
[[noreturn]] void leave(int code) {
  ::syscall(SYS_exit_group, code);
  __builtin_unreachable();
}

[[noreturn]] void report(step what, int index = 0, int err = errno) {
  failure f{static_cast<int32_t>(what), index, err};
  (void)!::write(status_slot, &f, sizeof f);
  leave(127);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

void block_all_signals() {
  sigset_t all;
  ::sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
}

void default_signals() {
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) {
      ::signal(s, SIG_DFL);
    }
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Reaps the namespace's processes (the init adopts its orphans) and exits
// with the program's status.
void reap(pid_t program) {
  int status = 0;
  pid_t done;
  while ((done = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (done == program) {
      leave(exit_code_of(status));
    }
  }
  if (done < 0 && errno == ECHILD) {
    leave(255);
  }
}

// The init's life once the program runs: every signal it gets (all are
// blocked and read from `signals`, a signalfd) goes to the program, each
// SIGCHLD is a reaping. Blocked, a signal from the parent pid namespace
// reaches a namespace's init even without a handler; and no handler runs
// in this copy of the engine. When the engine is gone (its end of
// engine_slot hangs up), the init ends, and the namespace with it.
[[noreturn]] void serve(pid_t program, int signals) {
  for (;;) {
    pollfd ready[2] = {{signals, POLLIN, 0}, {engine_slot, POLLIN, 0}};
    if (::poll(ready, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (ready[1].revents != 0) {
      leave(128 + SIGKILL);
    }
    signalfd_siginfo info{};
    auto n = ::read(signals, &info, sizeof info);
    if (n != static_cast<ssize_t>(sizeof info)) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      break;
    }
    if (info.ssi_signo == SIGCHLD) {
      reap(program);
    } else {
      ::kill(program, static_cast<int>(info.ssi_signo));
    }
  }
  for (;;) { // no more signals to read: wait, at least
    int status = 0;
    pid_t done = ::waitpid(-1, &status, 0);
    if (done == program) {
      leave(exit_code_of(status));
    }
    if (done < 0 && errno == ECHILD) {
      leave(255);
    }
  }
}

void close_from(int first) {
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) {
    return;
  }
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  for (rlim_t fd = static_cast<rlim_t>(first); fd < limit.rlim_cur; ++fd) {
    ::close(static_cast<int>(fd));
  }
}

// The mount flags a user namespace cannot take away from a mount it got
// from its parent: a remount keeps them.
unsigned long kept_flags(const char* path) {
  struct statfs st {};
  if (::statfs(path, &st) != 0) {
    return 0;
  }
  unsigned long kept = 0;
  const std::pair<long, unsigned long> map[] = {
      {ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},     {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
      {ST_RELATIME, MS_RELATIME},
  };
  for (const auto& [st_flag, ms_flag] : map) {
    if ((st.f_flags & st_flag) != 0) {
      kept |= ms_flag;
    }
  }
  return kept;
}

bool remount(const char* target, unsigned long flags) {
  return ::mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | flags | kept_flags(target),
                 nullptr) == 0;
}

bool run_step(const fs_step& s) {
  struct stat st {};
  if (!s.only_if.empty() && (::stat(s.only_if.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return true;
  }
  switch (s.what) {
  case fs_step::kind::mount:
    return ::mount(s.source.c_str(), s.target.c_str(), s.fstype.c_str(), s.flags,
                   s.data.empty() ? nullptr : s.data.c_str()) == 0;
  case fs_step::kind::bind:
    return ::mount(s.source.c_str(), s.target.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
           remount(s.target.c_str(), s.flags);
  case fs_step::kind::remount:
    return remount(s.target.c_str(), s.flags);
  case fs_step::kind::mkdir:
    return ::mkdir(s.target.c_str(), s.mode) == 0 || errno == EEXIST;
  case fs_step::kind::file: {
    int fd = ::open(s.target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, s.mode);
    if (fd < 0) {
      return false;
    }
    bool ok = ::write(fd, s.data.data(), s.data.size()) == static_cast<ssize_t>(s.data.size());
    ::close(fd);
    return ok;
  }
  case fs_step::kind::symlink:
    return ::symlink(s.source.c_str(), s.target.c_str()) == 0;
  }
  return false;
}

bool loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  int err = errno;
  ::close(fd);
  errno = err;
  return ok;
}

// No capability in any set, none to regain.
bool drop_capabilities() {
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return false;
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  return ::syscall(SYS_capset, &header, data) == 0;
}

// pid 2: stdio, session, console, cwd, exec.
[[noreturn]] void run_program(const plan& p) {
  default_signals();
  ::umask(022);
  ::setsid();
  if (p.terminal) {
    ::ioctl(0, TIOCSCTTY, 0);
  }
  if (::chdir(p.cwd.c_str()) != 0) {
    report(step::chdir);
  }
  int err = ENOENT;
  for (const auto& c : p.candidates) {
    ::execve(c.c_str(), p.argv.data(), p.envp.data());
    // As execvp: a candidate that is not there lets the search go on; a
    // permission problem is the answer unless a later one runs.
    if (errno == EACCES) {
      err = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      err = errno;
      break;
    }
  }
  report(step::exec, 0, err);
}

// Puts descriptor `fd` in `slot` (close-on-exec unless stdio).
void place(int fd, int slot) {
  if (slot <= 2) {
    ::dup2(fd, slot);
  } else {
    ::dup3(fd, slot, O_CLOEXEC);
  }
}

// pid 1: its descriptors, its ids, the root, no privileges, the program,
// its status.
[[noreturn]] void run_init(const plan& p) {
  // Signals wait for the init's signalfd (no handler of the engine runs
  // here); a SIGCHLD the engine ignores would never come.
  block_all_signals();
  ::signal(SIGCHLD, SIG_DFL);
  ::setsid();
  ::prctl(PR_SET_NAME, "sandbox-init");
  // Every descriptor to its slot, the rest closed: first out of the slots'
  // way, then into them.
  int moved[6];
  const int sources[6] = {p.in, p.out, p.err, p.status, p.sync, p.engine};
  for (int i = 0; i < 6; ++i) {
    moved[i] = sources[i] >= 0 ? ::fcntl(sources[i], F_DUPFD, first_free_slot) : -1;
  }
  for (int i = 0; i < 6; ++i) {
    if (moved[i] >= 0) {
      place(moved[i], i);
    }
  }
  close_from(root_slot); // the root, when there is one, comes later
  // The engine maps the ids and moves the init into its cgroup meanwhile.
  char go = 0;
  if (::read(sync_slot, &go, 1) != 1) {
    leave(127); // the engine gave up and says why
  }
  ::close(sync_slot);
  if (::unshare(CLONE_NEWCGROUP) != 0) {
    report(step::cgroup_namespace);
  }
  // System calls, not the C library's wrappers: those would wait for the
  // engine's threads, which the library believes this copy of it still has.
  // The namespace's root is not mapped, so the capabilities in the new
  // namespace stay for building the root.
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) {
    report(step::drop_groups);
  }
  if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) {
    report(step::set_gid);
  }
  if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) {
    report(step::set_uid);
  }
  // The container's root is bound from a descriptor of the new mount
  // namespace (a mount of another namespace cannot be bound), opened with
  // the sandbox's uid: a caller's root.path gets no folder that uid could
  // not reach on the host.
  if (!p.root.empty()) {
    int root = ::open(p.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || (root != root_slot && ::dup3(root, root_slot, O_CLOEXEC) != root_slot)) {
      report(step::open_root);
    }
    if (root != root_slot) {
      ::close(root);
    }
  }
  ::umask(0);
  if (::sethostname(p.hostname.data(), p.hostname.size()) != 0) {
    report(step::hostname);
  }
  if (!loopback_up()) {
    report(step::loopback);
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    report(step::private_mounts);
  }
  for (size_t i = 0; i < p.steps.size(); ++i) {
    if (!run_step(p.steps[i])) {
      report(step::fs, static_cast<int>(i));
    }
  }
  ::close(root_slot);
  // The new root replaces the old one, which is then let go of entirely.
  if (::chdir(staging) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
      ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) {
    report(step::pivot_root);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    report(step::no_new_privs);
  }
  if (!drop_capabilities()) {
    report(step::drop_capabilities);
  }
  sigset_t all;
  ::sigfillset(&all);
  int signals = ::signalfd(-1, &all, SFD_CLOEXEC);
  if (signals < 0) {
    report(step::signals);
  }
  // _Fork, not fork: the C library's locks may be held by the engine's
  // other threads, and the program allocates nothing before its exec.
  pid_t program = ::_Fork();
  if (program < 0) {
    report(step::fork_program);
  }
  if (program == 0) {
    run_program(p);
  }
  for (int fd = 0; fd <= status_slot; ++fd) {
    ::close(fd);
  }
  serve(program, signals);
}

} // namespace

int init_main(void* p) {
  run_init(*static_cast<const plan*>(p));
}

} // namespace uvm::guest::sandbox_child
