// Where sandboxed processes get their cgroups (guest/cgroup.hpp): the
// engine's own cgroup in the memory and pids hierarchies, found from
// /proc/self/mountinfo and /proc/self/cgroup for v1, hybrid and v2 hosts,
// and the reason given when no hierarchy can hold the limits.
#include <filesystem>
#include <map>

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "guest/cgroup.hpp"

using uvm::guest::find_cgroup_layout;

namespace {

// Mounts as a hybrid host shows them: v1 controllers, and a v2 hierarchy
// that holds none of them.
const std::string hybrid_mounts =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

const std::string v2_mounts = "22 1 0:20 / / rw - ext4 /dev/vda rw\n"
                              "30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 "
                              "rw,nsdelegate\n";

// A reader of cgroup.controllers files that records what it was asked.
struct controllers {
  std::map<std::string, std::string> files;
  std::vector<std::string> asked;
  std::function<std::string(const std::string&)> reader() {
    return [this](const std::string& path) {
      asked.push_back(path);
      auto f = files.find(path);
      return f == files.end() ? std::string{} : f->second;
    };
  }
};

} // namespace

TEST_CASE("on a hybrid host the v1 memory and pids hierarchies hold the limits", "[cgroup]") {
  controllers c;
  auto layout = find_cgroup_layout(hybrid_mounts,
                                   "9:name=systemd:/\n8:pids:/\n4:memory:/jobs/engine-7\n"
                                   "1:cpu:/\n0::/\n",
                                   c.reader());
  REQUIRE(layout);
  CHECK(layout->version == 1);
  CHECK(layout->memory == "/sys/fs/cgroup/memory/jobs/engine-7");
  CHECK(layout->pids == "/sys/fs/cgroup/pids");
  CHECK(c.asked.empty());
}

TEST_CASE("a v1 hierarchy mounted from a cgroup below its root is followed", "[cgroup]") {
  // As in a container: the host's /docker/abc is the mount's root.
  auto mounts = "35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                "39 31 0:36 /docker/abc /sys/fs/cgroup/pids\\040x rw - cgroup cgroup rw,pids\n";
  controllers c;
  auto layout =
      find_cgroup_layout(mounts, "8:pids:/docker/abc\n4:memory:/docker/abc/engine\n", c.reader());
  REQUIRE(layout);
  CHECK(layout->memory == "/sys/fs/cgroup/memory/engine");
  CHECK(layout->pids == "/sys/fs/cgroup/pids x");
}

TEST_CASE("on a v2 host the engine's cgroup must offer memory and pids", "[cgroup]") {
  controllers c;
  c.files["/sys/fs/cgroup/system.slice/engine.service/cgroup.controllers"] =
      "cpuset cpu io memory pids\n";
  auto layout = find_cgroup_layout(v2_mounts, "0::/system.slice/engine.service\n", c.reader());
  REQUIRE(layout);
  CHECK(layout->version == 2);
  CHECK(layout->memory == "/sys/fs/cgroup/system.slice/engine.service");
  CHECK(layout->pids == layout->memory);

  SECTION("without pids there, it says what there is") {
    c.files["/sys/fs/cgroup/system.slice/engine.service/cgroup.controllers"] = "cpu memory\n";
    auto missing = find_cgroup_layout(v2_mounts, "0::/system.slice/engine.service\n", c.reader());
    REQUIRE_FALSE(missing);
    CHECK(missing.err().text ==
          "no cgroup v1 memory and pids hierarchies, and the cgroup v2 cgroup "
          "/sys/fs/cgroup/system.slice/engine.service does not offer both (it offers: cpu "
          "memory)");
  }
}

TEST_CASE("a hybrid host without v1 pids says why no cgroup can be used", "[cgroup]") {
  controllers c;
  c.files["/sys/fs/cgroup/unified/cgroup.controllers"] = "hugetlb\n";
  auto mounts = hybrid_mounts;
  mounts.erase(mounts.find("39 31"), mounts.find("41 31") - mounts.find("39 31"));
  auto layout = find_cgroup_layout(mounts, "4:memory:/\n0::/\n", c.reader());
  REQUIRE_FALSE(layout);
  CHECK(layout.err().text == "no cgroup v1 memory and pids hierarchies, and the cgroup v2 cgroup "
                             "/sys/fs/cgroup/unified does not offer both (it offers: hugetlb)");
  auto none = find_cgroup_layout("22 1 0:20 / / rw - ext4 /dev/vda rw\n", "", c.reader());
  REQUIRE_FALSE(none);
  CHECK(none.err().text == "no cgroup v1 memory and pids hierarchies and no cgroup v2 hierarchy");
}

TEST_CASE("a cgroup that cannot be made says where and why", "[cgroup]") {
  uvm::guest::cgroup_layout layout{1, "/no/such/memory", "/no/such/pids"};
  auto cg = uvm::guest::cgroup::create(layout, "x", {});
  REQUIRE_FALSE(cg);
  CHECK(cg.err().text == "cgroup v1: mkdir /no/such/memory/x: no such file or directory");
  CHECK(uvm::guest::cgroup::next_name() != uvm::guest::cgroup::next_name());
}

TEST_CASE("the cgroups that gone engines left behind are removed, others stay", "[cgroup]") {
  const auto& layout = uvm::guest::host_cgroups();
  if (!layout) {
    WARN("skipped: " << layout.err().text);
    return;
  }
  // No process has a pid above the kernel's largest.
  auto gone = layout->pids + "/uvm-sandbox-4194305-1";
  auto ours = layout->pids + "/uvm-sandbox-" + std::to_string(::getpid()) + "-999999";
  REQUIRE(::mkdir(gone.c_str(), 0755) == 0);
  REQUIRE(::mkdir(ours.c_str(), 0755) == 0);
  uvm::guest::remove_leftover_cgroups(*layout);
  CHECK_FALSE(std::filesystem::exists(gone));
  CHECK(std::filesystem::exists(ours));
  ::rmdir(ours.c_str());
}
