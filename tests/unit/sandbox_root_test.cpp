// The steps that build a sandboxed process's root (guest/sandbox_root.hpp):
// a minimal read-only root with the host's /usr and top folders as the host
// has them, its own /etc, /dev, /proc and /tmp; a container's root as it is
// with /proc and /dev added where it has room for them; nosuid everywhere.
#include <algorithm>

#include <catch2/catch.hpp>
#include <sys/mount.h>

#include "guest/sandbox_root.hpp"

using uvm::guest::fs_step;
using kind = fs_step::kind;

namespace {

uvm::guest::root_input minimal() {
  uvm::guest::root_input in;
  in.staging = "/tmp";
  in.top = {{"bin", "usr/bin"}, {"lib", "usr/lib"}, {"lib64", {}}};
  in.uid = 65534;
  in.gid = 65534;
  in.hostname = "box";
  in.tmp_bytes = 1 << 20;
  return in;
}

const fs_step* find(const std::vector<fs_step>& steps, kind k, const std::string& target) {
  auto s = std::find_if(steps.begin(), steps.end(),
                        [&](const fs_step& s) { return s.what == k && s.target == target; });
  return s == steps.end() ? nullptr : &*s;
}

// The step that must be there.
const fs_step& get(const std::vector<fs_step>& steps, kind k, const std::string& target) {
  const auto* s = find(steps, k, target);
  INFO(target);
  REQUIRE(s != nullptr);
  return *s;
}

} // namespace

TEST_CASE("a minimal root is the host's /usr and top folders read-only, and its own rest",
          "[sandbox]") {
  auto steps = root_steps(minimal());
  REQUIRE(steps.size() > 5);
  CHECK(steps.front().what == kind::mount);
  CHECK(steps.front().fstype == "tmpfs");
  CHECK(steps.front().target == "/tmp");
  // Read-only at the end, once everything is in place.
  CHECK(steps.back().what == kind::remount);
  CHECK(steps.back().target == "/tmp");
  CHECK((steps.back().flags & MS_RDONLY) != 0);

  const auto* usr = find(steps, kind::bind, "/tmp/usr");
  REQUIRE(usr);
  CHECK(usr->source == "/usr");
  CHECK(usr->flags == (MS_RDONLY | MS_NOSUID | MS_NODEV));
  CHECK(usr->description == "bind-mount /usr read-only");
  // Merged folders are the same links; a real folder is bound.
  const auto* bin = find(steps, kind::symlink, "/tmp/bin");
  REQUIRE(bin);
  CHECK(bin->source == "usr/bin");
  CHECK(find(steps, kind::bind, "/tmp/bin") == nullptr);
  CHECK(find(steps, kind::bind, "/tmp/lib64") != nullptr);
  CHECK(find(steps, kind::bind, "/tmp/sbin") == nullptr); // not on this host

  const auto* passwd = find(steps, kind::file, "/tmp/etc/passwd");
  REQUIRE(passwd);
  CHECK(passwd->data == "nobody:x:65534:65534:nobody:/tmp:/bin/sh\n");
  CHECK(get(steps, kind::file, "/tmp/etc/hosts").data.find("\tbox\n") != std::string::npos);
  const auto* proc = find(steps, kind::mount, "/tmp/proc");
  REQUIRE(proc);
  CHECK(proc->fstype == "proc");
  const auto* tmp = find(steps, kind::mount, "/tmp/tmp");
  REQUIRE(tmp);
  CHECK(tmp->data == "mode=1777,size=1048576");
  CHECK(find(steps, kind::bind, "/tmp/dev/null") != nullptr);
  CHECK(get(steps, kind::symlink, "/tmp/dev/fd").source == "/proc/self/fd");

  // No setuid anywhere; devices only where /dev's devices are.
  for (const auto& s : steps) {
    if (s.what == kind::mount || s.what == kind::bind || s.what == kind::remount) {
      INFO(s.description);
      CHECK((s.flags & MS_NOSUID) != 0);
      CHECK(((s.flags & MS_NODEV) != 0 || s.target.rfind("/tmp/dev", 0) == 0));
    }
  }
}

TEST_CASE("a minimal root names other ids as the sandbox's", "[sandbox]") {
  auto in = minimal();
  in.uid = 1000;
  in.gid = 1001;
  auto steps = root_steps(in);
  CHECK(get(steps, kind::file, "/tmp/etc/passwd").data ==
        "sandbox:x:1000:1001:sandbox:/tmp:/bin/sh\n");
  CHECK(get(steps, kind::file, "/tmp/etc/group").data == "sandbox:x:1001:\n");
}

TEST_CASE("a container's root is bound as it is, with /proc and /dev where it has them",
          "[sandbox]") {
  uvm::guest::root_input in;
  in.staging = "/tmp";
  in.container_root = "/proc/self/fd/5";
  in.container_label = "/run/gcs/c/1/rootfs";
  auto steps = root_steps(in);
  REQUIRE(steps.size() > 2);
  CHECK(steps[0].what == kind::bind);
  CHECK(steps[0].source == "/proc/self/fd/5");
  CHECK(steps[0].target == "/tmp");
  CHECK(steps[0].flags == (MS_NOSUID | MS_NODEV)); // writable: the container's layer
  CHECK(steps[0].description == "bind-mount the container's root /run/gcs/c/1/rootfs");
  CHECK(steps[0].only_if.empty());
  CHECK(steps[1].target == "/tmp/proc");
  CHECK(steps[1].only_if == "/tmp/proc");
  for (size_t i = 2; i < steps.size(); ++i) {
    INFO(steps[i].description);
    CHECK(steps[i].target.rfind("/tmp/dev", 0) == 0);
    CHECK(steps[i].only_if == "/tmp/dev");
  }
  CHECK(find(steps, kind::mount, "/tmp/dev") != nullptr);
  CHECK(find(steps, kind::mount, "/tmp/tmp") == nullptr);
  CHECK(find(steps, kind::file, "/tmp/etc/passwd") == nullptr);
  // A minimal root's steps are unconditional.
  for (const auto& s : root_steps(minimal())) {
    CHECK(s.only_if.empty());
  }
}
