// The sandbox of the in-process guest's processes (the embedded default;
// process::start uses it when a process_spec carries sandbox options): the
// process runs as an unprivileged uid in new user, mount, pid, network,
// ipc, uts and cgroup namespaces, as the child of a small init that is
// pid 1 there, on a private root (guest/sandbox_root.hpp), with loopback as
// its only network, no capabilities, no_new_privs, and in a cgroup with
// memory and pids limits (guest/cgroup.hpp) where the host has one to give.
//
// Two processes:
//   init     made by clone(2) in its new namespaces (a process with threads,
//            as the engine is, cannot unshare a user namespace); the
//            process the host knows (pid, signals, exit). The engine maps
//            the sandbox's uid and gid into its user namespace and moves it
//            into its cgroup; it then takes those ids, builds the root and
//            pivots into it, drops every privilege, forks the program,
//            forwards the signals it gets (SIGKILL ends it and with it
//            everything in its pid namespace), reaps orphans, and exits
//            with the program's status (128 + signal when a signal ended it)
//            so that waits, exit codes, signals and kills look as they do
//            without the sandbox; it ends when the engine is gone (a pipe
//            only the engine writes to hangs up), and the namespace with it;
//   program  pid 2: its stdio, its own session (and console), its cwd, exec.
// Neither allocates: everything is prepared before the clone. Every step
// that fails is the start's error, in the words "sandbox: <what the step
// makes>: <reason>", or, for the program's own steps, "chdir <cwd>:
// <reason>" and "exec <arg0>: <reason>" as without the sandbox.
// Nothing ever runs unconfined because a step failed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "guest/cgroup.hpp"
#include "messages/errors.hpp"

namespace uvm::guest {

struct sandbox_options {
  // The ids the process has, inside the user namespace and on the host
  // (mapped to themselves); never 0.
  uint32_t uid = 65534; // nobody
  uint32_t gid = 65534; // nogroup
  std::string hostname = "sandbox";
  // The size of the minimal root's private /tmp (its pages are charged to
  // the memory limit too).
  uint64_t tmp_bytes = 64ull << 20;
  cgroup_limits limits;
};

// What to run, prepared by process::start.
struct sandbox_program {
  std::vector<std::string> args;          // args[0] is looked up in the PATH of `env`
  std::map<std::string, std::string> env; // empty: only a PATH
  std::string cwd;                        // "" = "/"
  std::string root;                       // the container's root; "" = a minimal root
  // The descriptors that become the program's 0, 1 and 2 (with a console,
  // its pty's slave, which becomes its controlling terminal).
  int in = -1;
  int out = -1;
  int err = -1;
  bool terminal = false;
};

struct sandboxed_process {
  pid_t pid = 0; // the init's, as the host sees it
  // Null where the host has no cgroup to give (see host_cgroups()); removed
  // once the process is gone.
  std::unique_ptr<cgroup> limits;
};

// Starts `program` in a sandbox; returns once it has exec'd (or failed to).
result<sandboxed_process> start_sandboxed(const sandbox_options& options,
                                          const sandbox_program& program);

} // namespace uvm::guest
