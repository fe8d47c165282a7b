#include "guest/process.hpp"

#include "bridge/io.hpp"
#include "guest/errno_text.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace uvm::guest {

namespace {

// Copies until EOF or an error on either side.
void copy(int from, int to) {
  char buf[16384];
  for (;;) {
    auto n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0 || !bridge::write_fully(to, buf, static_cast<size_t>(n))) {
      return;
    }
  }
}

// Process output -> host: at EOF half-close, then wait for the host to
// close its end (it has read everything). The socket is the process's to
// close.
void relay_out(int pipe_read, int socket) {
  copy(pipe_read, socket);
  ::close(pipe_read);
  ::shutdown(socket, SHUT_WR);
  char sink[256];
  while (::read(socket, sink, sizeof sink) > 0) {
  }
}

// Host -> process stdin: at EOF (the host's CloseStdin) the pipe closes.
void relay_in(int socket, int pipe_write) {
  bridge::block_sigpipe_on_this_thread();
  copy(socket, pipe_write);
  ::close(pipe_write);
}

// A console's output nobody asked for: read and dropped.
void drain(int fd) {
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0 && !(n < 0 && errno == EINTR)) {
      break;
    }
  }
  ::close(fd);
}

// A pty for `spec`: returns its master (kept for resizes) and fills the
// relay ends; -1 with errno on failure.
int open_console(const process_spec& spec, int in[2], int out[2]) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    return -1;
  }
  if (spec.rows > 0 && spec.cols > 0) {
    winsize size{};
    size.ws_row = spec.rows;
    size.ws_col = spec.cols;
    ::ioctl(master, TIOCSWINSZ, &size);
  }
  char name[128];
  if (::ptsname_r(master, name, sizeof name) != 0) {
    ::close(master);
    return -1;
  }
  int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    ::close(master);
    return -1;
  }
  in[0] = slave;
  in[1] = ::fcntl(master, F_DUPFD_CLOEXEC, 0);
  out[0] = ::fcntl(master, F_DUPFD_CLOEXEC, 0);
  return master;
}

// What a child failed at before its program ran.
enum class start_step : int { chroot = 1, chdir, exec };

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

} // namespace

result<std::shared_ptr<process>> process::start(const process_spec& spec, stdio_sockets stdio) {
  auto fail = [&](const std::string& why) {
    close_fd(stdio.in);
    close_fd(stdio.out);
    close_fd(stdio.err);
    return error{errc::io_failure, why};
  };
  if (spec.args.empty()) {
    return fail("no command to run");
  }
  // Pipes for the requested streams, and, unconfined, one that reports an
  // exec failure (close-on-exec: it reads EOF when the exec succeeded). With a console
  // the streams are a pty instead: in[1] and out[0] are dups of its master,
  // in[0] = out[1] = err[1] its slave.
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  int console = -1;
  auto close_all = [&] {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], status[0], status[1], console}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  };
  if (spec.terminal) {
    console = open_console(spec, in, out);
    if (console < 0) {
      auto why = errno_text(errno);
      close_all();
      return fail("pty: " + why);
    }
  } else if ((stdio.in >= 0 && ::pipe2(in, O_CLOEXEC) != 0) ||
             (stdio.out >= 0 && ::pipe2(out, O_CLOEXEC) != 0) ||
             (stdio.err >= 0 && ::pipe2(err, O_CLOEXEC) != 0)) {
    auto why = errno_text(errno);
    close_all();
    return fail("pipe: " + why);
  }
  if (!spec.sandbox && ::pipe2(status, O_CLOEXEC) != 0) {
    auto why = errno_text(errno);
    close_all();
    return fail("pipe: " + why);
  }
  // Everything the child needs, prepared before fork (no allocation after).
  std::vector<char*> argv;
  for (const auto& a : spec.args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  for (const auto& [k, v] : spec.env) {
    env_strings.push_back(k + "=" + v);
  }
  for (auto& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  // In a new root the process starts at its top unless told otherwise.
  const std::string cwd = spec.cwd.empty() && !spec.root.empty() ? "/" : spec.cwd;

  pid_t pid = -1;
  std::unique_ptr<cgroup> limits;
  if (spec.sandbox) {
    sandbox_program program;
    program.args = spec.args;
    program.env = spec.env;
    program.cwd = spec.cwd;
    program.root = spec.root;
    program.terminal = spec.terminal;
    program.in = spec.terminal ? in[0] : stdio.in >= 0 ? in[0] : devnull;
    program.out = spec.terminal ? in[0] : stdio.out >= 0 ? out[1] : devnull;
    program.err = spec.terminal ? in[0] : stdio.err >= 0 ? err[1] : devnull;
    auto started = start_sandboxed(*spec.sandbox, program);
    ::close(devnull);
    for (int fd : {in[0], out[1], err[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    if (!started) {
      for (int fd : {in[1], out[0], err[0], console}) {
        if (fd >= 0) {
          ::close(fd);
        }
      }
      return fail(started.err().text);
    }
    pid = started->pid;
    limits = std::move(started->limits);
  } else {
    pid = ::fork();
    if (pid == 0) {
      ::setsid();
      if (spec.terminal) {
        // The slave becomes the controlling terminal of the new session.
        ::ioctl(in[0], TIOCSCTTY, 0);
        ::dup2(in[0], 0);
        ::dup2(in[0], 1);
        ::dup2(in[0], 2);
      } else {
        ::dup2(stdio.in >= 0 ? in[0] : devnull, 0);
        ::dup2(stdio.out >= 0 ? out[1] : devnull, 1);
        ::dup2(stdio.err >= 0 ? err[1] : devnull, 2);
      }
      auto report = [&](start_step step) {
        int failed[2] = {static_cast<int>(step), errno};
        (void)!::write(status[1], failed, sizeof failed);
        ::_exit(127);
      };
      if (!spec.root.empty() && ::chroot(spec.root.c_str()) != 0) {
        report(start_step::chroot);
      }
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
        report(start_step::chdir);
      }
      if (spec.env.empty()) {
        ::execvp(argv[0], argv.data());
      } else {
        ::execvpe(argv[0], argv.data(), envp.data());
      }
      report(start_step::exec);
    }
    int fork_errno = errno;
    ::close(devnull);
    for (int fd : {in[0], out[1], err[1], status[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    if (pid < 0) {
      for (int fd : {in[1], out[0], err[0], status[0], console}) {
        if (fd >= 0) {
          ::close(fd);
        }
      }
      return fail("fork: " + errno_text(fork_errno));
    }
    int failed[2] = {0, 0}; // the child's start_step and errno
    auto n = ::read(status[0], failed, sizeof failed);
    ::close(status[0]);
    if (n == static_cast<ssize_t>(sizeof failed)) {
      ::waitpid(pid, nullptr, 0);
      for (int fd : {in[1], out[0], err[0], console}) {
        if (fd >= 0) {
          ::close(fd);
        }
      }
      auto step = static_cast<start_step>(failed[0]);
      return fail((step == start_step::chroot  ? "chroot " + spec.root
                   : step == start_step::chdir ? "chdir " + cwd
                                               : "exec " + spec.args[0]) +
                  ": " + errno_text(failed[1]));
    }
  }

  std::shared_ptr<process> p{new process};
  p->pid_ = static_cast<uint32_t>(pid);
  p->limits_ = std::move(limits);
  p->console_ = console;
  // Streams the host did not ask for are not relayed (a console's output
  // still has to be drained for the process to go on).
  if (stdio.in < 0) {
    close_fd(in[1]);
  }
  for (int fd : {stdio.in, stdio.out, stdio.err}) {
    if (fd >= 0) {
      p->sockets_.push_back(fd);
    }
  }
  if (stdio.in >= 0) {
    p->stdin_socket_ = stdio.in;
    p->relays_.emplace_back(relay_in, stdio.in, in[1]);
  }
  std::vector<std::thread> outputs;
  if (stdio.out >= 0) {
    outputs.emplace_back(relay_out, out[0], stdio.out);
  } else if (out[0] >= 0) {
    outputs.emplace_back(drain, out[0]);
  }
  if (stdio.err >= 0 && spec.terminal) {
    ::shutdown(stdio.err, SHUT_WR); // a console has no stderr: at its end at once
  } else if (stdio.err >= 0) {
    outputs.emplace_back(relay_out, err[0], stdio.err);
  }
  p->reaper_ = std::thread([raw = p.get(), outputs = std::move(outputs)]() mutable {
    int status_code = 0;
    while (::waitpid(static_cast<pid_t>(raw->pid_), &status_code, 0) < 0 && errno == EINTR) {
    }
    for (auto& t : outputs) {
      t.join();
    }
    raw->limits_.reset();
    uint32_t code = WIFEXITED(status_code)     ? static_cast<uint32_t>(WEXITSTATUS(status_code))
                    : WIFSIGNALED(status_code) ? 128u + static_cast<uint32_t>(WTERMSIG(status_code))
                                               : 255u;
    // Nobody writes to a process that is gone: end the stdin relay.
    if (raw->stdin_socket_ >= 0) {
      ::shutdown(raw->stdin_socket_, SHUT_RDWR);
    }
    std::lock_guard<std::mutex> lock{raw->mutex_};
    raw->exit_code_ = code;
    raw->cv_.notify_all();
  });
  return p;
}

process::~process() {
  if (reaper_.joinable()) {
    reaper_.join();
  }
  for (auto& t : relays_) {
    if (t.joinable()) {
      t.join();
    }
  }
  for (int fd : sockets_) {
    ::close(fd);
  }
  if (console_ >= 0) {
    ::close(console_);
  }
}

bool process::resize(uint16_t rows, uint16_t cols) {
  if (console_ < 0) {
    return false;
  }
  winsize size{};
  size.ws_row = rows;
  size.ws_col = cols;
  return ::ioctl(console_, TIOCSWINSZ, &size) == 0;
}

void process::abandon() {
  ::kill(-static_cast<pid_t>(pid_), SIGKILL);
  for (int fd : sockets_) {
    ::shutdown(fd, SHUT_RDWR);
  }
}

std::optional<uint32_t> process::wait_for(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> lock{mutex_};
  if (!timeout) {
    cv_.wait(lock, [&] { return exit_code_.has_value(); });
  } else {
    cv_.wait_for(lock, *timeout, [&] { return exit_code_.has_value(); });
  }
  return exit_code_;
}

bool process::exited() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return exit_code_.has_value();
}

bool process::signal(int signo) {
  if (exited()) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid_), signo) == 0;
}

} // namespace uvm::guest
