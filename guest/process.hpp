// A real process started by our guest agent (gcs-bridge.md §7.5, §9): it
// forks and execs, relays stdio between the process's pipes and the host's
// relay sockets, and reports the exit code only once the output relays are
// done — after the clean close handshake: the guest half-closes each output
// stream and waits until the host closes its end.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "guest/cgroup.hpp"
#include "guest/sandbox.hpp"
#include "messages/errors.hpp"

namespace uvm::guest {

struct process_spec {
  std::vector<std::string> args;          // argv; args[0] is looked up in PATH
  std::map<std::string, std::string> env; // empty: the agent's environment
  std::string cwd;
  // The directory the process is chrooted to before its cwd ("/" when
  // empty) is entered; "" = the agent's root.
  std::string root;
  // A console (EmulateConsole / OCI `terminal`): the process gets a pty as
  // its controlling terminal; its output goes to stdout, stderr is unused.
  bool terminal = false;
  uint16_t rows = 0; // initial size; 0 = the pty's default
  uint16_t cols = 0;
  // Set: the process runs in a sandbox (guest/sandbox.hpp) whose root is
  // `root`, or a minimal one when `root` is empty. Unset: it runs
  // unconfined, as the agent's own child.
  std::optional<sandbox_options> sandbox;
};

// Connected relay sockets, owned by the process from start(); -1 = none
// (the stream is /dev/null).
struct stdio_sockets {
  int in = -1;
  int out = -1;
  int err = -1;
};

class process {
public:
  // Forks and execs `spec`; a failure to enter its root or cwd or to exec
  // is reported as the start's error ("chroot <root>: <reason>", "chdir
  // <cwd>: <reason>", "exec <arg0>: <reason>"; "sandbox: <what>: <reason>"
  // for a sandbox that could not be set up), not as an exit code.
  static result<std::shared_ptr<process>> start(const process_spec& spec, stdio_sockets stdio);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  uint32_t pid() const { return pid_; }
  // The exit code (128 + signal for a signalled process) once the process
  // exited and its output relays are done; std::nullopt on timeout.
  std::optional<uint32_t> wait_for(std::optional<std::chrono::milliseconds> timeout);
  bool exited() const;
  // kill(2); false when the process is gone.
  bool signal(int signo);
  // Resizes the process's pty; false when it has none.
  bool resize(uint16_t rows, uint16_t cols);
  // The agent is stopping: kill the process's group and cut its relays, so
  // that its threads end without the host.
  void abandon();

private:
  process() = default;
  void reap();

  uint32_t pid_ = 0;
  std::vector<std::thread> relays_;
  std::thread reaper_;
  std::vector<int> sockets_; // the relay sockets, closed last
  int stdin_socket_ = -1;    // to stop the stdin relay when the process ends
  int console_ = -1;         // the pty's master, for resizes
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<uint32_t> exit_code_;
  std::unique_ptr<cgroup> limits_; // a sandbox's cgroup, removed at the exit
};

} // namespace uvm::guest
