// VMAccessType on Linux (uvm-api.md §7.1). Words: a VM's *principal* is the
// uid its QEMU runs as (Individual: "this VM") and the VM group, a gid every
// VM's QEMU carries as a supplementary group (Group: Hyper-V's S-1-5-83-0).
// A *grant* is one POSIX ACL entry on the disk file (r for read-only, rw
// otherwise), held by the VMs that asked for it; the entry goes when its last
// holder releases it, and only if the grant added it (an entry that was
// there before stays). Pure: libacl and a mutex, nothing of the engine.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>

#include "messages/errors.hpp"
#include "messages/options.hpp"

namespace uvm::hcs {

struct vm_principal {
  uint32_t uid = 0;   // Individual
  uint32_t group = 0; // Group: the VM group
};

enum class acl_who { user, group };

// Adds an entry for `who`/`id` to the file's access ACL, or widens the one
// there (r, then rw when `write`), and recomputes the mask. True when an
// entry for `id` existed before. Errors name the path and Go's errno words.
result<bool> acl_grant(const std::string& path, acl_who who, uint32_t id, bool write);
// Removes the entry for `who`/`id` (none there: nothing to do).
error acl_revoke(const std::string& path, acl_who who, uint32_t id);
// The entry's permissions ("r--", "rw-"); empty when there is none.
result<std::string> acl_entry(const std::string& path, acl_who who, uint32_t id);

// The grants of one backend's VMs. Entries shared by several VMs (the VM
// group, or one service uid) are counted by holder, so one VM's release does
// not take another's access. An entry widened to rw for one holder stays rw
// until its last holder goes.
class vm_access_table {
public:
  // Grants `vm` access to `path` for `type` (noop: nothing). Repeat grants
  // of one VM are one hold.
  error grant(const std::string& vm, const std::string& path, const vm_principal& who,
              vm_access_type type, bool read_only);
  // `vm` no longer uses `path`: the entries it alone held go. The first
  // error, if any; the holds are dropped either way.
  error release(const std::string& vm, const std::string& path);
  // The VM is closed: release everything it still holds.
  void release_all(const std::string& vm);
  // How many (path, entry) grants are held (tests).
  size_t size() const;

private:
  using key = std::tuple<std::string, acl_who, uint32_t>;
  struct grant_entry {
    std::set<std::string> holders;
    bool added = false; // the entry was not there before our first grant
  };
  error drop(const std::string& vm, const std::string* path);

  mutable std::mutex mutex_;
  std::map<key, grant_entry> grants_;
};

} // namespace uvm::hcs
