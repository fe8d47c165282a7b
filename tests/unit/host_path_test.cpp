// Host paths the engine opens itself: Go's os.Stat text when a path cannot
// be stat'ed, and Go's open texts when it is not the kind of file a call
// needs.
#include "hcs/host_path.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/core/host_files.hpp"
#include "hcs/guid.hpp"

using namespace uvm;
using namespace uvm::hcs;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path root = fs::temp_directory_path() / ("uvm-host-path-" + new_guid());
  temp_dir() { fs::create_directories(root); }
  ~temp_dir() { fs::remove_all(root); }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream{root / name} << text;
    return (root / name).string();
  }
};

std::string error_of(const std::string& path, host_path_need need) {
  auto r = check_host_path(path, need);
  REQUIRE_FALSE(r);
  return r.err().text;
}

} // namespace

TEST_CASE("check_host_path takes what the call needs", "[host_path]") {
  temp_dir dir;
  auto file = dir.file("layer.vhd", "12345");
  auto folder = dir.root.string();

  auto f = check_host_path(file, host_path_need::regular_file);
  REQUIRE(f);
  CHECK(f->kind == host_path_kind::regular_file);
  CHECK(f->size_bytes == 5);
  CHECK(check_host_path(folder, host_path_need::directory)->kind == host_path_kind::directory);
  CHECK(check_host_path(file, host_path_need::anything));
  CHECK(check_host_path(folder, host_path_need::anything));
  // A link counts as what it points to.
  fs::create_symlink(file, dir.root / "link.vhd");
  CHECK(check_host_path((dir.root / "link.vhd").string(), host_path_need::regular_file));
}

TEST_CASE("check_host_path refuses with Go's texts", "[host_path]") {
  temp_dir dir;
  auto file = dir.file("layer.vhd", "x");
  auto folder = dir.root.string();
  auto missing = (dir.root / "missing.vhd").string();

  CHECK(error_of(missing, host_path_need::regular_file) ==
        "stat " + missing + ": no such file or directory");
  CHECK(check_host_path(missing, host_path_need::anything).err().code == errc::io_failure);
  CHECK(error_of(file + "/inside", host_path_need::anything) ==
        "stat " + file + "/inside: not a directory");
  CHECK(error_of(folder, host_path_need::regular_file) == "open " + folder + ": is a directory");
  CHECK(error_of(file, host_path_need::directory) == "open " + file + ": not a directory");
  CHECK(error_of(file, host_path_need::block_device) == "open " + file + ": block device required");
  auto fifo = (dir.root / "fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(error_of(fifo, host_path_need::regular_file) == "open " + fifo + ": not a regular file");
  CHECK(error_of("/dev/null", host_path_need::regular_file) ==
        "open /dev/null: not a regular file");
  CHECK(check_host_path(file, host_path_need::directory).err().code == errc::bad_request);
}

TEST_CASE("the device calls' stat keeps Go's os.Stat text", "[host_path]") {
  temp_dir dir;
  auto file = dir.file("share.txt", "abc");
  auto info = uvm::stat_host_path(file);
  REQUIRE(info);
  CHECK_FALSE(info->is_directory);
  CHECK(info->size_bytes == 3);
  CHECK(uvm::stat_host_path(dir.root.string())->is_directory);
  auto missing = (dir.root / "gone").string();
  auto err = uvm::stat_host_path(missing);
  REQUIRE_FALSE(err);
  CHECK(err.err().code == errc::io_failure);
  CHECK(err.err().text == "stat " + missing + ": no such file or directory");
}
