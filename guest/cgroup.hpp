// Resource limits of sandboxed processes (guest/sandbox.hpp): each process
// gets a cgroup of its own with a memory and a pids limit, made a child of
// the engine's own cgroup (so that the engine's limits still hold its
// guests) and removed when the process ends.
//
// Hierarchies: cgroup v1 when both the memory and the pids controllers are
// mounted as v1 hierarchies (/sys/fs/cgroup/memory and /sys/fs/cgroup/pids
// on most machines, next to a v2 `unified` mount without them); otherwise
// cgroup v2, where the engine's cgroup must offer both controllers and be
// able to hand them down (a v2 cgroup that holds processes, other than the
// root, cannot: run the engine in a cgroup with a delegated subtree).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "messages/errors.hpp"

namespace uvm::guest {

struct cgroup_limits {
  uint64_t memory_bytes = 256ull << 20;
  uint32_t pids = 256;
};

// Where new cgroups go: the engine's cgroup in each controller's hierarchy
// (the same folder twice for v2).
struct cgroup_layout {
  int version = 0; // 1 or 2
  std::string memory;
  std::string pids;
};

// From the texts of /proc/self/mountinfo and /proc/self/cgroup; `read_file`
// reads a v2 cgroup's cgroup.controllers. The error says why no hierarchy
// offers both controllers.
result<cgroup_layout>
find_cgroup_layout(const std::string& mountinfo, const std::string& self_cgroup,
                   const std::function<std::string(const std::string&)>& read_file);

// Removes the empty cgroups that engines which are gone left in `layout`'s
// parents (an engine killed before its processes ended); one that holds a
// process stays. host_cgroups() does it once.
void remove_leftover_cgroups(const cgroup_layout& layout);

// This engine's layout, found and probed (a cgroup made and removed) once;
// the error says why sandboxed processes cannot have limits here.
const result<cgroup_layout>& host_cgroups();

class cgroup {
public:
  // A new cgroup "<parent>/<name>" in each hierarchy, its limits written.
  static result<std::unique_ptr<cgroup>>
  create(const cgroup_layout& layout, const std::string& name, const cgroup_limits& limits);
  // A fresh name for this engine's next cgroup.
  static std::string next_name();
  // Removes the cgroup, killing whatever still runs in it.
  ~cgroup();
  cgroup(const cgroup&) = delete;
  cgroup& operator=(const cgroup&) = delete;

  // Moves process `pid` (and its future children) into the cgroup.
  error add(pid_t pid);
  // The cgroup's folders (one per hierarchy).
  const std::vector<std::string>& paths() const { return paths_; }

private:
  cgroup() = default;
  std::vector<std::string> paths_;
};

} // namespace uvm::guest
