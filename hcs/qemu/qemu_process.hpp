// The QEMU process of one VM: started with its output in a log file and
// killed with the engine (PR_SET_PDEATHSIG), reaped once; confined, it
// runs as an unprivileged uid in a cgroup of its own.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "messages/errors.hpp"

namespace uvm::hcs::qemu {

// Who QEMU runs as. Unconfined (uid 0): the engine's credentials and cgroup.
struct qemu_confinement {
  uint32_t uid = 0;
  uint32_t group = 0; // primary and only supplementary group: the VM group
  // A cgroup v2 folder the process joins before it drops root; empty: none.
  std::string cgroup;
  bool confined() const { return uid != 0; }
};

class qemu_process {
public:
  qemu_process() = default;
  ~qemu_process();
  qemu_process(const qemu_process&) = delete;
  qemu_process& operator=(const qemu_process&) = delete;

  // Starts argv[0] (searched in PATH) with stdout and stderr in `log`;
  // `note` (if any) is the log's first line. A child that cannot take its
  // confinement exits 127 with the reason in the log.
  error launch(const std::vector<std::string>& argv, const std::string& log,
               const qemu_confinement& who = {}, const std::string& note = {});
  pid_t pid() const { return pid_; }
  bool running();
  // Waits up to `timeout` for the process to end; true once it has.
  bool reap(std::chrono::milliseconds timeout);
  // SIGKILL and reap.
  void kill();
  // "exit status 1", "killed by signal 9"; empty while running.
  const std::string& how_it_ended() const { return ended_; }

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string ended_;
};

// The last `lines` lines of a text file, joined with "; " (QEMU's errors).
std::string log_tail(const std::string& path, size_t lines = 3);

} // namespace uvm::hcs::qemu
