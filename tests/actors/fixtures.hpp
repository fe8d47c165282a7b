// Shared set-up for actor tests: a host folder with what CreateLCOW and
// CreateWCOW check for, and option builders pointing into it.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

#include "messages/options.hpp"

namespace uvm::test {

// Polls `pred` until it holds (true) or `limit` passes (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

inline host_info test_host() {
  host_info h;
  h.logical_cpus = 2;
  h.os_build = 19041;
  h.executable_name = "uvm-tests";
  return h;
}

class host_dir {
public:
  host_dir() {
    static int counter = 0;
    root_ = std::filesystem::temp_directory_path() /
            ("uvm-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(root_ / "LinuxBootFiles");
    std::filesystem::create_directories(root_ / "layers" / "base" / "UtilityVM");
    std::ofstream(root_ / "LinuxBootFiles" / "kernel") << "kernel\n";
    std::ofstream(root_ / "LinuxBootFiles" / "initrd.img") << "initrd\n";
    std::ofstream(root_ / "layers" / "base" / "UtilityVM" / "SystemTemplate.vhdx") << "vhdx\n";
  }
  ~host_dir() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  host_dir(const host_dir&) = delete;
  host_dir& operator=(const host_dir&) = delete;

  std::string path(const std::string& rel) const { return (root_ / rel).string(); }

  options_lcow lcow(const std::string& id = {}) const {
    auto o = new_default_options_lcow(id, "uvmtest", test_host(), [](const std::string& p) {
      return std::filesystem::exists(p);
    });
    o.boot_files_path = path("LinuxBootFiles");
    return o;
  }

  options_wcow wcow(const std::string& id = {}, const std::string& scratch = "scratch") const {
    auto o = new_default_options_wcow(id, "uvmtest", test_host());
    o.layer_folders = {path("layers/base"), path(scratch)};
    return o;
  }

private:
  std::filesystem::path root_;
};

} // namespace uvm::test
