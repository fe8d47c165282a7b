// VMAccessType's ACL grants (hcs/vm_access): real entries on a temp file
// (tmpfs and ext4 both keep POSIX ACLs), read back through libacl and
// getfacl's view; holders counted across VMs; entries that were there
// before left alone.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "hcs/vm_access.hpp"

using uvm::vm_access_type;
using uvm::hcs::acl_entry;
using uvm::hcs::acl_grant;
using uvm::hcs::acl_who;
using uvm::hcs::vm_access_table;
using uvm::hcs::vm_principal;

namespace {

struct temp_file {
  std::filesystem::path path;
  temp_file() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("uvm-acl-" + std::to_string(::getpid()) + "-" + std::to_string(++n) + ".vhdx");
    std::ofstream{path} << "disk\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  }
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  std::string str() const { return path.string(); }
};

std::string entry(const temp_file& f, acl_who who, uint32_t id) {
  auto e = acl_entry(f.str(), who, id);
  REQUIRE(e);
  return *e;
}

const vm_principal vm_a{810001, 810000};
const vm_principal vm_b{810002, 810000};

} // namespace

TEST_CASE("an individual grant is a user entry, read-only or read-write, gone at release",
          "[vm_access]") {
  temp_file f;
  vm_access_table t;
  REQUIRE_FALSE(t.grant("a", f.str(), vm_a, vm_access_type::individual, true));
  CHECK(entry(f, acl_who::user, vm_a.uid) == "r--");
  CHECK(entry(f, acl_who::group, vm_a.group).empty());
  // A repeat add (read-write this time) widens the entry; still one hold.
  REQUIRE_FALSE(t.grant("a", f.str(), vm_a, vm_access_type::individual, false));
  CHECK(entry(f, acl_who::user, vm_a.uid) == "rw-");
  CHECK(t.size() == 1);
  REQUIRE_FALSE(t.release("a", f.str()));
  CHECK(entry(f, acl_who::user, vm_a.uid).empty());
  CHECK(t.size() == 0);
  // The mask follows: the file's group class is the owner's group again.
  CHECK((std::filesystem::status(f.path).permissions() & std::filesystem::perms::group_all) ==
        std::filesystem::perms::none);
}

TEST_CASE("a group entry stays while another VM holds it", "[vm_access]") {
  temp_file f;
  vm_access_table t;
  REQUIRE_FALSE(t.grant("a", f.str(), vm_a, vm_access_type::group, false));
  REQUIRE_FALSE(t.grant("b", f.str(), vm_b, vm_access_type::group, true));
  CHECK(entry(f, acl_who::group, vm_a.group) == "rw-");
  CHECK(entry(f, acl_who::user, vm_a.uid).empty());
  REQUIRE_FALSE(t.release("a", f.str()));
  CHECK(entry(f, acl_who::group, vm_a.group) == "rw-");
  t.release_all("b");
  CHECK(entry(f, acl_who::group, vm_a.group).empty());
}

TEST_CASE("an entry that was there before the grant survives the release", "[vm_access]") {
  temp_file f;
  REQUIRE(acl_grant(f.str(), acl_who::user, vm_a.uid, true));
  vm_access_table t;
  REQUIRE_FALSE(t.grant("a", f.str(), vm_a, vm_access_type::individual, true));
  t.release_all("a");
  CHECK(entry(f, acl_who::user, vm_a.uid) == "rw-");
}

TEST_CASE("noop grants nothing; a failed grant holds nothing and says why", "[vm_access]") {
  temp_file f;
  vm_access_table t;
  REQUIRE_FALSE(t.grant("a", "/no/such/disk.vhdx", vm_a, vm_access_type::noop, false));
  CHECK(t.size() == 0);
  auto e = t.grant("a", "/no/such/disk.vhdx", vm_a, vm_access_type::individual, false);
  CHECK(e.text == "getfacl /no/such/disk.vhdx: no such file or directory");
  CHECK(t.size() == 0);
  CHECK_FALSE(t.release("a", "/no/such/disk.vhdx"));
  // /proc refuses ACLs.
  auto refused = t.grant("a", "/proc/version", vm_a, vm_access_type::group, true);
  CHECK(refused.text == "getfacl /proc/version: operation not supported");
}
