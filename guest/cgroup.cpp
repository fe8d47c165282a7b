#include "guest/cgroup.hpp"

#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/errno_text.hpp"

namespace uvm::guest {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in{s};
  while (std::getline(in, part, sep)) {
    parts.push_back(part);
  }
  return parts;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  for (const auto& i : list) {
    if (i == item) {
      return true;
    }
  }
  return false;
}

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct cgroup_mount {
  std::string root;  // the hierarchy's folder mounted there
  std::string point; // where
  bool v2 = false;
  std::vector<std::string> controllers; // v1 only
};

std::vector<cgroup_mount> cgroup_mounts(const std::string& mountinfo) {
  std::vector<cgroup_mount> mounts;
  for (const auto& line : split(mountinfo, '\n')) {
    auto fields = split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") {
      ++dash;
    }
    if (dash < 5 || dash + 3 >= fields.size()) {
      continue;
    }
    const auto& type = fields[dash + 1];
    if (type != "cgroup" && type != "cgroup2") {
      continue;
    }
    cgroup_mount m;
    m.root = unescape(fields[3]);
    m.point = unescape(fields[4]);
    m.v2 = type == "cgroup2";
    if (!m.v2) {
      m.controllers = split(fields[dash + 3], ',');
    }
    mounts.push_back(std::move(m));
  }
  return mounts;
}

// The folder of cgroup `path` (as /proc/self/cgroup names it) under mount
// `m`; empty when the mount does not show it.
std::string folder(const cgroup_mount& m, const std::string& path) {
  if (m.root == "/") {
    return path == "/" ? m.point : m.point + path;
  }
  if (path == m.root) {
    return m.point;
  }
  if (path.rfind(m.root + "/", 0) == 0) {
    return m.point + path.substr(m.root.size());
  }
  return {};
}

error write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return error{errc::io_failure, path + ": " + errno_text(errno)};
  }
  auto n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return error{errc::io_failure, "write " + value + " to " + path + ": " + errno_text(err)};
  }
  return {};
}

std::string read_text(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace

result<cgroup_layout>
find_cgroup_layout(const std::string& mountinfo, const std::string& self_cgroup,
                   const std::function<std::string(const std::string&)>& read_file) {
  // The engine's cgroup per hierarchy: "<id>:<controllers>:<path>".
  std::string v1_memory_path, v1_pids_path, v2_path;
  bool v2_member = false;
  for (const auto& line : split(self_cgroup, '\n')) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      continue;
    }
    auto controllers = split(line.substr(first + 1, second - first - 1), ',');
    auto path = line.substr(second + 1);
    if (line.substr(0, first) == "0" && controllers.empty()) {
      v2_path = path;
      v2_member = true;
    }
    if (contains(controllers, "memory")) {
      v1_memory_path = path;
    }
    if (contains(controllers, "pids")) {
      v1_pids_path = path;
    }
  }
  auto mounts = cgroup_mounts(mountinfo);
  cgroup_layout v1;
  v1.version = 1;
  for (const auto& m : mounts) {
    if (m.v2) {
      continue;
    }
    if (contains(m.controllers, "memory") && !v1_memory_path.empty() && v1.memory.empty()) {
      v1.memory = folder(m, v1_memory_path);
    }
    if (contains(m.controllers, "pids") && !v1_pids_path.empty() && v1.pids.empty()) {
      v1.pids = folder(m, v1_pids_path);
    }
  }
  if (!v1.memory.empty() && !v1.pids.empty()) {
    return v1;
  }
  std::string why = "no cgroup v1 memory and pids hierarchies";
  for (const auto& m : mounts) {
    if (!m.v2 || !v2_member) {
      continue;
    }
    auto dir = folder(m, v2_path);
    if (dir.empty()) {
      continue;
    }
    auto offered = read_file(dir + "/cgroup.controllers");
    while (!offered.empty() && (offered.back() == '\n' || offered.back() == ' ')) {
      offered.pop_back();
    }
    auto list = split(offered, ' ');
    if (contains(list, "memory") && contains(list, "pids")) {
      cgroup_layout v2;
      v2.version = 2;
      v2.memory = v2.pids = dir;
      return v2;
    }
    return error{errc::not_supported, why + ", and the cgroup v2 cgroup " + dir +
                                          " does not offer both (it offers: " +
                                          (offered.empty() ? "none" : offered) + ")"};
  }
  return error{errc::not_supported, why + " and no cgroup v2 hierarchy"};
}

void remove_leftover_cgroups(const cgroup_layout& layout) {
  const std::string prefix = "uvm-sandbox-";
  for (const auto& parent : {layout.memory, layout.pids}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
      auto name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) {
        continue;
      }
      auto pid = std::atoi(name.c_str() + prefix.size());
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
        ::rmdir(entry.path().c_str());
      }
    }
  }
}

const result<cgroup_layout>& host_cgroups() {
  static const result<cgroup_layout> layout = []() -> result<cgroup_layout> {
    auto found =
        find_cgroup_layout(read_text("/proc/self/mountinfo"), read_text("/proc/self/cgroup"),
                           [](const std::string& path) { return read_text(path); });
    if (!found) {
      return found;
    }
    remove_leftover_cgroups(*found);
    auto probe = cgroup::create(*found, cgroup::next_name(), cgroup_limits{});
    if (!probe) {
      return probe.err();
    }
    return found;
  }();
  return layout;
}

std::string cgroup::next_name() {
  static std::atomic<uint64_t> counter{0};
  return "uvm-sandbox-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

result<std::unique_ptr<cgroup>> cgroup::create(const cgroup_layout& layout, const std::string& name,
                                               const cgroup_limits& limits) {
  std::unique_ptr<cgroup> cg{new cgroup};
  auto fail = [&](const std::string& why) {
    return error{errc::io_failure, "cgroup v" + std::to_string(layout.version) + ": " + why};
  };
  if (layout.version == 2) {
    // The parent hands both controllers down to its children.
    auto control = layout.memory + "/cgroup.subtree_control";
    auto enabled = split(read_text(control), ' ');
    for (auto& e : enabled) {
      while (!e.empty() && e.back() == '\n') {
        e.pop_back();
      }
    }
    if (!contains(enabled, "memory") || !contains(enabled, "pids")) {
      if (auto e = write_file(control, "+memory +pids")) {
        return fail("cannot enable the memory and pids controllers for children of " +
                    layout.memory + " (" + e.text + ")");
      }
    }
  }
  std::vector<std::string> parents{layout.memory};
  if (layout.pids != layout.memory) {
    parents.push_back(layout.pids);
  }
  for (const auto& parent : parents) {
    auto dir = parent + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0) {
      return fail("mkdir " + dir + ": " + errno_text(errno));
    }
    cg->paths_.push_back(dir); // removed by the destructor from now on
  }
  const auto& memory_dir = cg->paths_.front();
  const auto& pids_dir = cg->paths_.back();
  auto memory = std::to_string(limits.memory_bytes);
  if (layout.version == 1) {
    if (auto e = write_file(memory_dir + "/memory.limit_in_bytes", memory)) {
      return fail(e.text);
    }
    // Where swap is accounted, memory plus swap gets the same limit.
    (void)write_file(memory_dir + "/memory.memsw.limit_in_bytes", memory);
  } else {
    if (auto e = write_file(memory_dir + "/memory.max", memory)) {
      return fail(e.text);
    }
    (void)write_file(memory_dir + "/memory.swap.max", "0");
  }
  if (auto e = write_file(pids_dir + "/pids.max", std::to_string(limits.pids))) {
    return fail(e.text);
  }
  return cg;
}

error cgroup::add(pid_t pid) {
  for (const auto& dir : paths_) {
    if (auto e = write_file(dir + "/cgroup.procs", std::to_string(pid))) {
      return error{errc::io_failure, "cannot move the sandbox into its cgroup: " + e.text};
    }
  }
  return {};
}

cgroup::~cgroup() {
  // A cgroup goes once its last process is gone; what the sandbox left
  // behind (its namespace's processes die with its init, a moment after
  // it) is killed.
  for (const auto& dir : paths_) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (::rmdir(dir.c_str()) == 0 || errno != EBUSY) {
        break;
      }
      std::istringstream procs{read_text(dir + "/cgroup.procs")};
      pid_t pid = 0;
      while (procs >> pid) {
        ::kill(pid, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

} // namespace uvm::guest
