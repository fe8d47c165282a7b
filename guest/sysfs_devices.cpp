#include "guest/sysfs_devices.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include <glob.h>

namespace uvm::guest {

namespace {

std::vector<std::string> matches(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    out.assign(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  }
  ::globfree(&g);
  return out;
}

std::string base_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

error missing(const std::string& what) {
  return error{errc::not_found, "no " + what};
}

// A block device from its sysfs directory (.../block/<name>), whose "dev"
// file holds "<major>:<minor>".
result<block_device> block_device_at(const std::string& dir) {
  std::ifstream in{dir + "/dev"};
  std::string text;
  std::getline(in, text);
  block_device d{base_name(dir)};
  if (std::sscanf(text.c_str(), "%u:%u", &d.major, &d.minor) != 2) {
    return missing("device number in " + dir + "/dev");
  }
  return d;
}

} // namespace

result<block_device> find_scsi_disk(const std::string& sysfs, const std::string& pci,
                                    uint32_t lun) {
  auto controller = sysfs + "/bus/pci/devices/" + pci;
  auto hosts = matches(controller + "/virtio*/host*");
  if (hosts.empty()) {
    return missing("SCSI host under " + controller + "/virtio*");
  }
  auto host = base_name(hosts.front()).substr(4);
  auto address = host + ":0:0:" + std::to_string(lun);
  auto disks = matches(sysfs + "/bus/scsi/devices/" + address + "/block/*");
  if (disks.empty()) {
    return missing("block device under " + sysfs + "/bus/scsi/devices/" + address + "/block");
  }
  return block_device_at(disks.front());
}

result<block_device> find_pmem_disk(const std::string& sysfs, const std::string& pci) {
  auto device = sysfs + "/bus/pci/devices/" + pci;
  auto disks = matches(device + "/virtio*/ndbus*/region*/namespace*/block/pmem*");
  if (disks.empty()) {
    return missing("pmem disk under " + device + "/virtio*/ndbus*/region*/namespace*/block");
  }
  return block_device_at(disks.front());
}

result<std::string> find_9p_device(const std::string& sysfs, const std::string& tag) {
  auto driver = sysfs + "/bus/virtio/drivers/9pnet_virtio";
  for (const auto& file : matches(driver + "/*/mount_tag")) {
    std::ifstream in{file};
    std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    // The kernel ends the tag with a NUL (6.1) or a newline.
    while (!text.empty() && (text.back() == '\0' || text.back() == '\n')) {
      text.pop_back();
    }
    if (text == tag) {
      auto dir = file.substr(0, file.rfind('/'));
      return base_name(dir);
    }
  }
  return missing("9p device with mount tag '" + tag + "' under " + driver);
}

} // namespace uvm::guest
