// Finding a utility VM's devices through sysfs, against a fake sysfs tree
// shaped like the one Linux 6.1 shows under QEMU (measured in a VM), and
// the mounter's errors for devices that never appear. Nothing is mounted.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "guest/mounter.hpp"
#include "guest/sysfs_devices.hpp"

using namespace uvm::guest;
namespace fs = std::filesystem;

namespace {

struct fake_sysfs {
  fs::path root;

  fake_sysfs() {
    auto p = (fs::temp_directory_path() / "uvm-sysfs-XXXXXX").string();
    REQUIRE(::mkdtemp(p.data()) != nullptr);
    root = p;
  }
  ~fake_sysfs() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  void dir(const std::string& rel) { fs::create_directories(root / rel); }
  void file(const std::string& rel, const std::string& content) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream{root / rel, std::ios::binary} << content;
  }
  std::string path() const { return root.string(); }
};

} // namespace

TEST_CASE("sysfs: a SCSI disk through its controller's PCI address and LUN", "[mounts]") {
  fake_sysfs sys;
  sys.dir("bus/pci/devices/0000:00:04.0/virtio1/host2");
  sys.file("bus/scsi/devices/2:0:0:1/block/sdc/dev", "8:32\n");
  sys.file("bus/scsi/devices/2:0:0:0/block/sdb/dev", "8:16\n");
  auto disk = find_scsi_disk(sys.path(), "0000:00:04.0", 1);
  REQUIRE(disk);
  CHECK(disk->name == "sdc");
  CHECK(disk->major == 8);
  CHECK(disk->minor == 32);

  auto no_lun = find_scsi_disk(sys.path(), "0000:00:04.0", 2);
  REQUIRE_FALSE(no_lun);
  CHECK(no_lun.err().text ==
        "no block device under " + sys.path() + "/bus/scsi/devices/2:0:0:2/block");
  auto no_host = find_scsi_disk(sys.path(), "0000:00:03.0", 0);
  REQUIRE_FALSE(no_host);
  CHECK(no_host.err().text ==
        "no SCSI host under " + sys.path() + "/bus/pci/devices/0000:00:03.0/virtio*");
}

TEST_CASE("sysfs: a pmem disk under its virtio-pmem PCI device", "[mounts]") {
  fake_sysfs sys;
  sys.file("bus/pci/devices/0000:00:0f.0/virtio2/ndbus0/region0/namespace0.0/block/pmem0/dev",
           "259:0\n");
  sys.file("bus/pci/devices/0000:00:10.0/virtio3/ndbus1/region1/namespace1.0/block/pmem1/dev",
           "259:1\n");
  auto second = find_pmem_disk(sys.path(), "0000:00:10.0");
  REQUIRE(second);
  CHECK(second->name == "pmem1");
  CHECK(second->major == 259);
  CHECK(second->minor == 1);
  CHECK_FALSE(find_pmem_disk(sys.path(), "0000:00:11.0"));
}

TEST_CASE("sysfs: a 9p device by its mount tag, NUL- or newline-terminated", "[mounts]") {
  fake_sysfs sys;
  sys.file("bus/virtio/drivers/9pnet_virtio/virtio1/mount_tag", std::string{"0\0", 2});
  sys.file("bus/virtio/drivers/9pnet_virtio/virtio4/mount_tag", "10\n");
  CHECK(*find_9p_device(sys.path(), "0") == "virtio1");
  CHECK(*find_9p_device(sys.path(), "10") == "virtio4");
  auto none = find_9p_device(sys.path(), "1");
  REQUIRE_FALSE(none);
  CHECK(none.err().text ==
        "no 9p device with mount tag '1' under " + sys.path() + "/bus/virtio/drivers/9pnet_virtio");
}

TEST_CASE("mounter: a device that does not appear fails after the wait, before any mount",
          "[mounts]") {
  fake_sysfs sys;
  sys.dir("bus/pci/devices/0000:00:03.0/virtio0/host0");
  mounter m{{sys.path(), sys.path() + "/dev", std::chrono::milliseconds{30}, ""}};
  auto target = sys.root / "mnt";
  auto e = m.apply({true, scsi_disk_mount{target.string(), 0, 5, false}});
  CHECK(e.text == "SCSI disk 0:5 (PCI 0000:00:03.0) did not appear within 30 ms: no block "
                  "device under " +
                      sys.path() + "/bus/scsi/devices/0:0:0:5/block");
  CHECK_FALSE(fs::exists(target));

  e = m.apply({true, vpmem_mount{target.string(), 2, std::nullopt}});
  CHECK(e.text == "VPMEM device 2 (PCI 0000:00:11.0) did not appear within 30 ms: no pmem disk "
                  "under " +
                      sys.path() +
                      "/bus/pci/devices/0000:00:11.0/virtio*/ndbus*/region*/"
                      "namespace*/block");
  e = m.apply({true, plan9_mount{target.string(), "3", false}});
  CHECK(e.text == "Plan9 share '3' did not appear within 30 ms: no 9p device with mount tag '3' "
                  "under " +
                      sys.path() + "/bus/virtio/drivers/9pnet_virtio");
  CHECK_FALSE(fs::exists(target));
}

// Under load a new pmem disk shows in sysfs before its node opens; mounting
// it then fails with ENXIO. The mounter waits for the node to open.
TEST_CASE("mounter: a pmem disk in sysfs whose node does not open yet is waited for", "[mounts]") {
  fake_sysfs sys;
  sys.file("bus/pci/devices/0000:00:11.0/virtio4/ndbus2/region2/namespace2.0/block/pmem2/dev",
           "259:2\n");
  // A node that exists but never opens.
  sys.dir("dev");
  fs::create_symlink(sys.root / "dev" / "gone", sys.root / "dev" / "pmem2");
  mounter m{{sys.path(), sys.path() + "/dev", std::chrono::milliseconds{30}, ""}};
  auto target = sys.root / "mnt";
  auto e = m.apply({true, vpmem_mount{target.string(), 2, std::nullopt}});
  CHECK(e.text == "VPMEM device 2 (PCI 0000:00:11.0) did not appear within 30 ms: open " +
                      sys.path() + "/dev/pmem2: No such file or directory");
  CHECK_FALSE(fs::exists(target));
}

TEST_CASE("mounter: slots outside the VM's PCI layout and nothing to unmount", "[mounts]") {
  fake_sysfs sys;
  mounter m{{sys.path(), sys.path() + "/dev", std::chrono::milliseconds{30}, ""}};
  CHECK(m.apply({true, scsi_disk_mount{"/m", 4, 0, false}}).text ==
        "SCSI controller 4 does not exist");
  CHECK(m.apply({true, vpmem_mount{"/m", 16, std::nullopt}}).text ==
        "VPMEM device 16 does not exist");
  CHECK_FALSE(m.apply({true, no_mount{}}));
  // Not a mount point: umount2 refuses (EINVAL as root, EPERM otherwise).
  auto e = m.apply({false, overlay_mount{sys.path(), {}, ""}});
  CHECK(e.text.rfind("unmount " + sys.path() + ": ", 0) == 0);
  CHECK(fs::exists(sys.root));
}
