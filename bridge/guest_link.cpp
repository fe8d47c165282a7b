#include "bridge/guest_link.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bridge/command_line.hpp"

namespace uvm::bridge {

namespace {

error io(const std::string& what) {
  auto text = what + ": " + std::strerror(errno);
  if (errno == EMFILE) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    text += " (the engine's descriptor limit, RLIMIT_NOFILE " + std::to_string(limit.rlim_cur) +
            ", is reached)";
  }
  return error{errc::io_failure, text};
}

result<int> connect_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return error{errc::bad_request, "bad guest socket path '" + path + "'"};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return io("socket");
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    auto e = io("connect " + path);
    ::close(fd);
    return e;
  }
  return fd;
}

} // namespace

result<std::unique_ptr<guest_link>> guest_link::open(const std::string& spec, const options& opts) {
  if (opts.loop == nullptr) {
    return error{errc::bad_request, "a guest link needs an I/O loop"};
  }
  std::unique_ptr<guest_link> l{new guest_link};
  l->spec_ = spec;
  if (spec == "in-process" || spec == "in-process-unconfined") {
    if (!opts.agent) {
      return error{errc::bad_request, "an in-process guest needs an agent"};
    }
    auto [host, agent] = memory_pipe(*opts.loop);
    auto [log_host, log_agent] = memory_pipe(*opts.loop);
    l->stream_ = std::move(host);
    l->log_stream_ = std::move(log_host);
    opts.agent(std::move(agent), std::move(log_agent));
    return l;
  }
  if (spec.rfind("unix:", 0) == 0) {
    auto fd = connect_unix(spec.substr(5));
    if (!fd) {
      return fd.err();
    }
    l->stream_ = fd_stream(*opts.loop, *fd);
    return l;
  }
  if (spec.rfind("qemu:", 0) == 0) {
    auto dir = spec.substr(5);
    // The stdio port before the bridge: QEMU drops what the guest writes
    // while no host is connected, and the agent starts its end of the mux
    // at its first dial, after a bridge request.
    auto stdio = connect_unix(dir + "/stdio.sock");
    if (!stdio) {
      return stdio.err();
    }
    auto mux = stdio_mux::host(*stdio, opts.stdio_dir);
    if (!mux) {
      return mux.err();
    }
    l->stdio_mux_ = std::move(*mux);
    // The log port before the bridge too: the agent's lines from the first
    // request on reach the host. A machine without the port has no log.
    if (::access((dir + "/log.sock").c_str(), F_OK) == 0) {
      auto log = connect_unix(dir + "/log.sock");
      if (!log) {
        return log.err();
      }
      l->log_stream_ = fd_stream(*opts.loop, *log);
    }
    auto fd = connect_unix(dir + "/gcs.sock");
    if (!fd) {
      return fd.err();
    }
    l->stream_ = fd_stream(*opts.loop, *fd);
    return l;
  }
  if (spec.rfind("exec:", 0) == 0) {
    auto words = split_command_line(spec.substr(5));
    if (!words) {
      return words.err();
    }
    if (words->empty()) {
      return error{errc::bad_request, "exec: needs a command"};
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return io("socketpair");
    }
    int log_pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, log_pair) != 0) {
      auto e = io("socketpair");
      ::close(pair[0]);
      ::close(pair[1]);
      return e;
    }
    std::vector<char*> argv;
    for (auto& w : *words) {
      argv.push_back(w.data());
    }
    argv.push_back(nullptr);
    // The agent learns where the host's stdio relays listen from its
    // environment (our gcs reads it; see stdio_dir_variable).
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, stdio_dir_variable, std::strlen(stdio_dir_variable)) != 0 &&
          std::strncmp(*e, log_fd_variable, std::strlen(log_fd_variable)) != 0) {
        env_strings.emplace_back(*e);
      }
    }
    env_strings.push_back(std::string{stdio_dir_variable} + "=" + opts.stdio_dir);
    env_strings.push_back(std::string{log_fd_variable} + "=" + std::to_string(exec_log_fd));
    std::vector<char*> envp;
    for (auto& e : env_strings) {
      envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(pair[1], 0);
      ::dup2(pair[1], 1);
      if (log_pair[1] == exec_log_fd) {
        ::fcntl(exec_log_fd, F_SETFD, 0); // dup2 onto itself would keep close-on-exec
      } else {
        ::dup2(log_pair[1], exec_log_fd);
      }
      ::execvpe(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(pair[1]);
    ::close(log_pair[1]);
    if (pid < 0) {
      ::close(pair[0]);
      ::close(log_pair[0]);
      return io("fork");
    }
    l->stream_ = fd_stream(*opts.loop, pair[0]);
    l->log_stream_ = fd_stream(*opts.loop, log_pair[0]);
    l->child_pid_ = pid;
    return l;
  }
  return error{errc::bad_request,
               "unknown guest '" + spec +
                   "' (in-process, in-process-unconfined, exec:CMD, unix:PATH or qemu:DIR)"};
}

void guest_link::shut() {
  if (stream_) {
    stream_->shut();
  }
}

guest_link::~guest_link() {
  shut();
  if (child_pid_ > 0) {
    // The agent saw end of stream; one that lingers is stopped.
    int status = 0;
    for (int i = 0; i < 50 && ::waitpid(child_pid_, &status, WNOHANG) == 0; ++i) {
      ::usleep(10000);
    }
    if (::waitpid(child_pid_, &status, WNOHANG) == 0) {
      ::kill(child_pid_, SIGKILL);
      ::waitpid(child_pid_, &status, 0);
    }
  }
  if (stdio_mux_) {
    stdio_mux_->stop();
  }
}

} // namespace uvm::bridge
