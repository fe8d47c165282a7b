#include "hcs/qemu/plan9_pool.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/mount.h>

namespace uvm::hcs::qemu {

namespace {

namespace fs = std::filesystem;

error mount_error(const std::string& what, int err) {
  return error{errc::io_failure,
               "Plan9 share: " + what + ": " + std::strerror(err) +
                   (err == EPERM ? " (the qemu backend bind-mounts shares: run as root)" : "")};
}

error bind_one(const std::string& from, const std::string& to, bool read_only) {
  if (::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return mount_error("bind " + from + " onto " + to, errno);
  }
  if (read_only &&
      ::mount(nullptr, to.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    int err = errno;
    ::umount2(to.c_str(), MNT_DETACH);
    return mount_error("read-only remount of " + to, err);
  }
  return {};
}

} // namespace

plan9_pool::plan9_pool(vm_files files, uint32_t size) : files_(std::move(files)), entries_(size) {}

error plan9_pool::prepare() {
  std::error_code ec;
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    fs::create_directories(files_.plan9_dir(i), ec);
    if (ec) {
      return error{errc::io_failure, "create " + files_.plan9_dir(i) + ": " + ec.message()};
    }
  }
  return {};
}

result<uint32_t> plan9_pool::bind(const std::string& name, const std::string& host_path,
                                  bool read_only, const std::vector<std::string>& allowed_files) {
  uint32_t index = 0;
  while (index < entries_.size() && !entries_[index].name.empty()) {
    ++index;
  }
  if (index == entries_.size()) {
    return error{errc::no_available_location,
                 "Plan9 share " + name + ": all " + std::to_string(entries_.size()) +
                     " Plan9 devices of this VM are in use (the qemu backend declares them at "
                     "launch)"};
  }
  auto dir = files_.plan9_dir(index);
  auto& e = entries_[index];
  if (allowed_files.empty()) {
    if (auto err = bind_one(host_path, dir, read_only)) {
      return err;
    }
    e.mounts.push_back(dir);
  } else {
    // A restricted share shows only the allowed files of its folder.
    for (const auto& file : allowed_files) {
      if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
        unbind(index);
        return error{errc::bad_request,
                     "Plan9 share " + name + ": bad allowed file '" + file + "'"};
      }
      auto target = dir + "/" + file;
      std::ofstream{target}.close();
      if (auto err = bind_one(host_path + "/" + file, target, read_only)) {
        unbind(index);
        return err;
      }
      e.mounts.push_back(target);
    }
  }
  e.name = name;
  return index;
}

std::optional<uint32_t> plan9_pool::find(const std::string& name) const {
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

void plan9_pool::unbind(uint32_t index) {
  auto& e = entries_.at(index);
  for (const auto& m : e.mounts) {
    ::umount2(m.c_str(), MNT_DETACH);
    if (m != files_.plan9_dir(index)) {
      std::error_code ec;
      fs::remove(m, ec);
    }
  }
  e = entry{};
}

void plan9_pool::unbind_all() {
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    unbind(i);
  }
}

} // namespace uvm::hcs::qemu
