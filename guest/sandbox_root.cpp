#include "guest/sandbox_root.hpp"

#include <climits>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace uvm::guest {

namespace {

constexpr unsigned long read_only = MS_RDONLY | MS_NOSUID | MS_NODEV;

fs_step mount_step(const std::string& fstype, const std::string& target, std::string data,
                   unsigned long flags, std::string description) {
  fs_step s;
  s.what = fs_step::kind::mount;
  s.source = fstype;
  s.fstype = fstype;
  s.target = target;
  s.data = std::move(data);
  s.flags = flags;
  s.description = std::move(description);
  return s;
}

fs_step bind_step(const std::string& source, const std::string& target, unsigned long flags,
                  std::string description) {
  fs_step s;
  s.what = fs_step::kind::bind;
  s.source = source;
  s.target = target;
  s.flags = flags;
  s.description = std::move(description);
  return s;
}

fs_step remount_step(const std::string& target, unsigned long flags, std::string description) {
  fs_step s;
  s.what = fs_step::kind::remount;
  s.target = target;
  s.flags = flags;
  s.description = std::move(description);
  return s;
}

fs_step dir_step(const std::string& root, const std::string& path, uint32_t mode = 0755) {
  fs_step s;
  s.what = fs_step::kind::mkdir;
  s.target = root + path;
  s.mode = mode;
  s.description = "create " + path;
  return s;
}

fs_step file_step(const std::string& root, const std::string& path, std::string content,
                  uint32_t mode) {
  fs_step s;
  s.what = fs_step::kind::file;
  s.target = root + path;
  s.data = std::move(content);
  s.mode = mode;
  s.description = "create " + path;
  return s;
}

fs_step link_step(const std::string& root, const std::string& path, const std::string& to) {
  fs_step s;
  s.what = fs_step::kind::symlink;
  s.source = to;
  s.target = root + path;
  s.description = "link " + path + " to " + to;
  return s;
}

// /dev: the harmless devices of the host, bound one by one (a user
// namespace cannot make device nodes), and the usual links into /proc.
void add_dev(std::vector<fs_step>& steps, const std::string& root, const std::string& only_if) {
  auto first = steps.size();
  steps.push_back(mount_step("tmpfs", root + "/dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC,
                             "mount a tmpfs on /dev"));
  for (const char* dev : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string path = std::string{"/dev/"} + dev;
    steps.push_back(file_step(root, path, {}, 0666));
    steps.push_back(bind_step(path, root + path, MS_NOSUID | MS_NOEXEC, "bind-mount " + path));
  }
  steps.push_back(link_step(root, "/dev/fd", "/proc/self/fd"));
  steps.push_back(link_step(root, "/dev/stdin", "/proc/self/fd/0"));
  steps.push_back(link_step(root, "/dev/stdout", "/proc/self/fd/1"));
  steps.push_back(link_step(root, "/dev/stderr", "/proc/self/fd/2"));
  steps.push_back(remount_step(root + "/dev", read_only | MS_NOEXEC, "make /dev read-only"));
  for (auto i = first; i < steps.size(); ++i) {
    steps[i].only_if = only_if;
  }
}

fs_step proc_step(const std::string& root, const std::string& only_if) {
  auto s = mount_step("proc", root + "/proc", {}, MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "mount the pid namespace's proc on /proc");
  s.only_if = only_if;
  return s;
}

} // namespace

std::vector<host_entry> host_top_entries() {
  std::vector<host_entry> entries;
  for (const char* name : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    std::string path = std::string{"/"} + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      auto n = ::readlink(path.c_str(), target, sizeof target - 1);
      if (n > 0) {
        entries.push_back({name, std::string(target, static_cast<size_t>(n))});
      }
    } else if (S_ISDIR(st.st_mode)) {
      entries.push_back({name, {}});
    }
  }
  return entries;
}

std::vector<fs_step> root_steps(const root_input& in) {
  const auto& root = in.staging;
  std::vector<fs_step> steps;
  if (!in.container_root.empty()) {
    steps.push_back(bind_step(in.container_root, root, MS_NOSUID | MS_NODEV,
                              "bind-mount the container's root " + in.container_label));
    steps.push_back(proc_step(root, root + "/proc"));
    add_dev(steps, root, root + "/dev");
    return steps;
  }
  steps.push_back(mount_step("tmpfs", root, "mode=0755,size=1m", MS_NOSUID | MS_NODEV,
                             "mount a tmpfs as the root"));
  steps.push_back(dir_step(root, "/usr"));
  steps.push_back(bind_step("/usr", root + "/usr", read_only, "bind-mount /usr read-only"));
  for (const auto& e : in.top) {
    auto path = "/" + e.name;
    if (!e.link.empty()) {
      steps.push_back(link_step(root, path, e.link));
    } else {
      steps.push_back(dir_step(root, path));
      steps.push_back(bind_step(path, root + path, read_only, "bind-mount " + path + " read-only"));
    }
  }
  // Names for the sandbox's ids, so that tools show them.
  auto user = in.uid == 65534 ? std::string{"nobody"} : std::string{"sandbox"};
  auto group = in.gid == 65534 ? std::string{"nogroup"} : std::string{"sandbox"};
  steps.push_back(dir_step(root, "/etc"));
  steps.push_back(file_step(root, "/etc/passwd",
                            user + ":x:" + std::to_string(in.uid) + ":" + std::to_string(in.gid) +
                                ":" + user + ":/tmp:/bin/sh\n",
                            0644));
  steps.push_back(
      file_step(root, "/etc/group", group + ":x:" + std::to_string(in.gid) + ":\n", 0644));
  steps.push_back(
      file_step(root, "/etc/hosts",
                "127.0.0.1\tlocalhost\n127.0.1.1\t" + in.hostname + "\n::1\tlocalhost\n", 0644));
  steps.push_back(dir_step(root, "/dev"));
  add_dev(steps, root, {});
  steps.push_back(dir_step(root, "/proc", 0555));
  steps.push_back(proc_step(root, {}));
  steps.push_back(dir_step(root, "/tmp", 01777));
  steps.push_back(mount_step("tmpfs", root + "/tmp",
                             "mode=1777,size=" + std::to_string(in.tmp_bytes), MS_NOSUID | MS_NODEV,
                             "mount a private tmpfs on /tmp"));
  steps.push_back(remount_step(root, read_only, "make the root read-only"));
  return steps;
}

} // namespace uvm::guest
