// gcs: our guest agent. Serves the GCS bridge protocol on stdin/stdout
// (--stdio, as hcsshim's guest does with -use-inouterr), or on a unix
// socket it dials (--connect unix:PATH) or listens on (--listen unix:PATH,
// one connection). Stdio relays dial "<stdio-dir>/port-<P>.sock", or, with
// --stdio-port PATH (a VM's virtio-serial port "stdio"), travel multiplexed
// over that port (bridge/stdio_mux.hpp). Inside a utility VM, `--mounts
// real` makes it perform the guest's mounts. Its log is logrus JSON lines
// (guest/log.hpp) on --log-port PATH (a VM's virtio-serial port "log"), on
// the descriptor $UVM_LOG_FD (an exec: agent's), else on stderr.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "bridge/guest_link.hpp"
#include "bridge/io.hpp"
#include "bridge/stdio_mux.hpp"
#include "guest/connection.hpp"
#include "uvm_version.hpp"

namespace {

bool unix_address(const std::string& spec, sockaddr_un& addr) {
  const std::string prefix = "unix:";
  if (spec.rfind(prefix, 0) != 0 || spec.size() - prefix.size() >= sizeof addr.sun_path) {
    return false;
  }
  addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, spec.c_str() + prefix.size());
  return true;
}

// Dials relays through a stdio mux on `port_fd`, started at the first
// dial: a virtio port reads end of stream while no host is connected, and
// the host connects its end of the stdio port before the bridge.
std::function<uvm::result<int>(uint32_t)> mux_dialer(int port_fd) {
  struct lazy_mux {
    std::mutex mutex;
    int fd = -1;
    std::unique_ptr<uvm::bridge::stdio_mux> mux;
    uvm::error failure;
  };
  auto l = std::make_shared<lazy_mux>();
  l->fd = port_fd;
  return [l](uint32_t port) -> uvm::result<int> {
    uvm::bridge::stdio_mux* mux = nullptr;
    {
      std::lock_guard<std::mutex> lock{l->mutex};
      if (!l->mux && !l->failure) {
        auto started = uvm::bridge::stdio_mux::guest(l->fd);
        if (started) {
          l->mux = std::move(*started);
        } else {
          l->failure = started.err();
        }
      }
      if (l->failure) {
        return l->failure;
      }
      mux = l->mux.get();
    }
    return mux->dial(port);
  };
}

std::shared_ptr<const uvm::guest::guest_log> agent_log;

int fail(const std::string& why) {
  std::cerr << "gcs: " << why << "\n";
  if (agent_log) {
    agent_log->log(uvm::guest::log_level::fatal, why);
  }
  return 1;
}

// Lines written whole, one writer at a time; a channel the host closed
// drops them.
std::shared_ptr<const uvm::guest::guest_log> log_to(int fd, uvm::guest::log_level level) {
  auto mutex = std::make_shared<std::mutex>();
  return std::make_shared<uvm::guest::guest_log>(level, [fd, mutex](std::string line) {
    std::lock_guard<std::mutex> lock{*mutex};
    uvm::bridge::write_fully(fd, line);
  });
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"gcs: guest compute service (GCS bridge protocol v4)"};
  bool use_stdio = false;
  app.set_version_flag("--version", std::string{"gcs "} + uvm::version_string);
  std::string connect_to, listen_on, mounts = "table", stdio_port;
  uvm::guest::service_options opts;
  // Inside a utility VM the VM is the sandbox: processes run as the
  // agent's children.
  opts.confine = uvm::guest::confinement::unconfined;
  const char* from_host = std::getenv(uvm::bridge::stdio_dir_variable);
  opts.stdio_dir = from_host != nullptr ? from_host : ".";
  auto* mode = app.add_option_group("transport");
  mode->add_flag("--stdio", use_stdio, "the bridge is stdin/stdout");
  mode->add_option("--connect", connect_to, "dial the host: unix:PATH");
  mode->add_option("--listen", listen_on, "accept one host connection: unix:PATH");
  mode->require_option(1);
  app.add_option("--stdio-dir", opts.stdio_dir,
                 "where the host's port-<P>.sock relays live (default: $UVM_STDIO_DIR, else .)");
  app.add_option("--stdio-port", stdio_port,
                 "carry the stdio relays over this port instead (a virtio-serial device)");
  std::string log_port, log_level_name = "info";
  app.add_option("--log-port", log_port,
                 "write the log to this port (a virtio-serial device) instead of stderr");
  app.add_option("--log-level", log_level_name,
                 "panic, fatal, error, warning, info (default), debug or trace");
  app.add_option("--mounts", mounts,
                 "table: keep the guest's mount table only (default); real: also mount");
  CLI11_PARSE(app, argc, argv);
  auto mounting = uvm::guest::parse_mount_mode(mounts);
  if (!mounting) {
    return fail(mounting.err().text);
  }
  opts.mounting = *mounting;
  uvm::guest::log_level level{};
  if (!uvm::guest::parse_log_level(log_level_name, level)) {
    return fail("unknown log level '" + log_level_name + "'");
  }
  // A host that goes away must not kill the agent mid-write.
  std::signal(SIGPIPE, SIG_IGN);
  int log_fd = 2;
  const char* inherited = std::getenv(uvm::bridge::log_fd_variable);
  if (!log_port.empty()) {
    log_fd = ::open(log_port.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (log_fd < 0) {
      return fail("open " + log_port + ": " + std::strerror(errno));
    }
  } else if (inherited != nullptr && inherited == std::to_string(uvm::bridge::exec_log_fd) &&
             ::fcntl(uvm::bridge::exec_log_fd, F_SETFD, FD_CLOEXEC) == 0) {
    // Not for the processes the agent starts.
    log_fd = uvm::bridge::exec_log_fd;
  }
  agent_log = opts.log = log_to(log_fd, level);
  if (!stdio_port.empty()) {
    // A virtio port opens once: one descriptor for both directions.
    int fd = ::open(stdio_port.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      return fail("open " + stdio_port + ": " + std::strerror(errno));
    }
    opts.dial_stdio = mux_dialer(fd);
  }

  int in_fd = 0, out_fd = 1;
  if (!use_stdio) {
    sockaddr_un addr{};
    const auto& spec = connect_to.empty() ? listen_on : connect_to;
    if (!unix_address(spec, addr)) {
      return fail("expected unix:PATH, got '" + spec + "'");
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return fail(std::string{"socket: "} + std::strerror(errno));
    }
    if (!connect_to.empty()) {
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        return fail("connect " + spec + ": " + std::strerror(errno));
      }
      in_fd = out_fd = fd;
    } else {
      ::unlink(addr.sun_path);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::listen(fd, 1) != 0) {
        return fail("listen " + spec + ": " + std::strerror(errno));
      }
      int conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      ::close(fd);
      if (conn < 0) {
        return fail(std::string{"accept: "} + std::strerror(errno));
      }
      in_fd = out_fd = conn;
    }
  }
  bool shut_down = false;
  auto why = uvm::guest::serve_connection(in_fd, out_fd, opts, &shut_down);
  if (!why.empty()) {
    return fail(why);
  }
  // The VM's init powers off on 3 and serves a new connection otherwise.
  return shut_down ? 3 : 0;
}
