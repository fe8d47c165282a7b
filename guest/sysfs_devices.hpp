// Where the devices of a QEMU utility VM show up in the guest's sysfs: the
// QEMU backend puts each at a fixed PCI address (messages/qemu_pci_layout.hpp),
// so the guest finds a disk from the numbers of a request alone, never from
// kernel names such as sdX (which depend on probe order). Each call is one
// look at a sysfs tree rooted at `sysfs` ("/sys", or a fake tree in tests);
// hot-plug is asynchronous, so callers poll.
#pragma once

#include <cstdint>
#include <string>

#include "messages/errors.hpp"

namespace uvm::guest {

struct block_device {
  std::string name; // "sdb", "pmem0": the node is /dev/<name>
  uint32_t major = 0;
  uint32_t minor = 0;
};

// LUN `lun` (target 0) of the virtio-scsi controller at PCI address `pci`:
// <pci>/virtio*/host<H>, then /sys/bus/scsi/devices/<H>:0:0:<lun>/block/*.
result<block_device> find_scsi_disk(const std::string& sysfs, const std::string& pci, uint32_t lun);

// The pmem disk of the virtio-pmem device at `pci`:
// <pci>/virtio*/ndbus*/region*/namespace*/block/pmem*.
result<block_device> find_pmem_disk(const std::string& sysfs, const std::string& pci);

// The virtio device (e.g. "virtio1") of the 9p transport whose mount tag is
// `tag`.
result<std::string> find_9p_device(const std::string& sysfs, const std::string& tag);

} // namespace uvm::guest
