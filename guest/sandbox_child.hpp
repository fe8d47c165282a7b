// The sandbox's own processes (guest/sandbox.hpp: the init and the
// program): what the engine prepares for them before the clone (they
// allocate nothing), where they find their descriptors, and what they send
// back when a step fails. Shared by sandbox.cpp (the engine's side) and
// sandbox_child.cpp (theirs) only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

#include "guest/sandbox_root.hpp"

namespace uvm::guest::sandbox_child {

// The mount namespace's folder where the root is built.
constexpr const char* staging = "/tmp";

// The descriptors of the init and the program.
constexpr int status_slot = 3; // failures, to the engine; end of file once the program exec'd
constexpr int sync_slot = 4;   // the engine's go, once it mapped the ids
constexpr int engine_slot = 5; // hangs up when the engine is gone
constexpr int root_slot = 6;   // the container's root, opened by the init
constexpr int first_free_slot = 7;

// What failed, sent to the engine as {step, index, errno}.
enum class step : int32_t {
  open_root = 1,
  cgroup_namespace,
  drop_groups,
  set_gid,
  set_uid,
  hostname,
  loopback,
  private_mounts,
  fs, // index: the root step
  pivot_root,
  no_new_privs,
  drop_capabilities,
  signals,
  fork_program,
  chdir,
  exec,
};

struct failure {
  int32_t what = 0;
  int32_t index = 0;
  int32_t err = 0;
};

// Everything the init and the program use, made before the clone: they
// only read it (no allocation after the clone).
struct plan {
  int in, out, err, status, sync, engine;
  std::string root; // the container's root; "" = a minimal root
  bool terminal;
  uid_t uid;
  gid_t gid;
  std::string hostname;
  std::vector<fs_step> steps;
  std::string cwd;
  std::vector<std::string> candidates; // where args[0] may be
  std::vector<char*> argv;
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
};

// The init, started by clone(2) in its new namespaces with `p` (a plan)
// as its argument: it makes the program and never returns.
int init_main(void* p);

} // namespace uvm::guest::sandbox_child
