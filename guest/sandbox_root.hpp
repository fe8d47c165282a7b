// The file system a sandboxed process sees (guest/sandbox.hpp), as the
// steps its init runs in its own mount namespace before it makes the
// result its root. Two kinds of root:
//   minimal    a tmpfs, read-only once built: the host's /usr and the top
//              folders of /bin, /sbin and /lib* bind-mounted read-only (or
//              the same symlinks where the host merged them into /usr), an
//              /etc with passwd, group and hosts, a /dev with null, zero,
//              full, random, urandom and tty, the namespace's own /proc and
//              a private, writable /tmp;
//   container  the container's combined-layer root (its OCI root.path)
//              bind-mounted as it is, with the namespace's own /proc and a
//              /dev like the minimal one where the root has those folders
//              (looked for by the init, as the sandbox's uid).
// Every mount is nosuid; all but /dev's devices are nodev.
// Pure: the host's facts come in through root_input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uvm::guest {

struct fs_step {
  enum class kind {
    mount,   // a new `fstype` at `target` with `flags` and `data`
    bind,    // `source` at `target` (not its sub-mounts), then remounted
             // with `flags` added to those its source's mount imposes
    remount, // `target` remounted with `flags` added, as for bind
    mkdir,   // folder `target` with `mode`
    file,    // file `target` holding `data`, with `mode`
    symlink, // `target` -> `source`
  };
  kind what = kind::mount;
  std::string source;
  std::string target;
  std::string fstype;
  std::string data;
  unsigned long flags = 0;
  uint32_t mode = 0;
  // Set: the step is skipped where this folder does not exist.
  std::string only_if;
  // For errors: what the step makes, in the sandbox's own words
  // ("bind-mount /usr read-only").
  std::string description;
};

// A top-level entry of the host that the minimal root reproduces: a folder
// (bind-mounted) or, where `link` is set, a symlink with that target.
struct host_entry {
  std::string name; // "bin"
  std::string link;
};

// The entries of /bin, /sbin, /lib, /lib32, /lib64 and /libx32 on this host.
std::vector<host_entry> host_top_entries();

struct root_input {
  // Where the root is built (a folder of the mount namespace's old root).
  std::string staging;
  // The container's root as a path the init can bind from; "" = a minimal
  // root. `container_label` names it in errors.
  std::string container_root;
  std::string container_label;
  std::vector<host_entry> top; // minimal root only
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string hostname;
  uint64_t tmp_bytes = 0; // the minimal root's /tmp
};

std::vector<fs_step> root_steps(const root_input& in);

} // namespace uvm::guest
