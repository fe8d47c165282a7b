// Performs the guest half of a mount request inside a QEMU utility VM with
// mount(2) and umount2(2): finds the device of a request through sysfs
// (sysfs_devices.hpp), creates the mount point and mounts it. Used by the
// agent only with `gcs --mounts real`; the in-process agent and tests keep
// the table alone.
//
//   MappedVirtualDisk  ext4 of the SCSI disk; ReadOnly: ro + noload
//   VPMemDevice        ext4 of /dev/pmemN, ro + noload (+ dax when the kernel takes it);
//                      a packed layer (MappingInfo): ext4 of a dm-linear device over its
//                      range of /dev/pmemN (dm_linear.hpp), removed after the unmount
//   MappedDirectory    9p over virtio, the share name as its mount tag
//   CombinedLayers     overlay of the layers, writable into <scratch>/upper
//   Remove             unmount, then remove the mount point if it is empty
#pragma once

#include <chrono>
#include <string>

#include "guest/mount_request.hpp"
#include "guest/sysfs_devices.hpp"
#include "messages/errors.hpp"

namespace uvm::guest {

struct mounter_options {
  std::string sysfs = "/sys";
  std::string dev = "/dev";
  // Hot-plug is asynchronous: how long a device may take to show up.
  std::chrono::milliseconds device_timeout{5000};
  // An empty directory; overlayfs (Linux 6.1) wants two lower layers when
  // there is no upper one, so a single read-only layer gets this as its
  // second.
  std::string empty_layer = "/run/gcs/empty-layer";
};

class mounter {
public:
  explicit mounter(mounter_options opts = {}) : opts_(std::move(opts)) {}

  // Performs `r`; a failure names the path or device and the errno text,
  // and leaves nothing mounted.
  error apply(const mount_request& r) const;

private:
  error add(const scsi_disk_mount& m) const;
  error add(const vpmem_mount& m) const;
  error add_packed(const vpmem_mount& m, const block_device& pmem) const;
  error remove(const vpmem_mount& m) const;
  static std::string linear_name(const vpmem_mount& m);
  error add(const plan9_mount& m) const;
  error add(const overlay_mount& m) const;
  // The node of `name` in opts_.dev, made when devtmpfs has not.
  result<std::string> device_node(const std::string& name, uint32_t major, uint32_t minor) const;
  // The node of `disk`, once the device opens. A device shows in sysfs a
  // moment before it opens: a new pmem disk (mounting it then fails with
  // ENXIO), or a disk that lingers at a LUN after another was plugged there.
  result<std::string> opened_node(const block_device& disk) const;

  mounter_options opts_;
};

} // namespace uvm::guest
