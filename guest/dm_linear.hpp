// Device-mapper linear targets over a range of a block device, made with
// the kernel's ioctl interface (linux/dm-ioctl.h) since the guest has no
// dmsetup: how a packed VPMEM layer (a range of /dev/pmemN) becomes a block
// device of its own. Needs dm_mod and CAP_SYS_ADMIN.
#pragma once

#include <cstdint>
#include <string>

#include "guest/sysfs_devices.hpp"
#include "messages/errors.hpp"

namespace uvm::guest {

struct dm_linear_spec {
  std::string name;          // the device-mapper name, unique in the guest
  block_device backing;      // major:minor of the device the range is of
  uint64_t offset_bytes = 0; // multiples of 512
  uint64_t size_bytes = 0;
};

// Creates the read-only device `spec.name`, loads its one linear target and
// resumes it; returns its numbers (name = spec.name). `control` is the
// device-mapper control node (10:236), made when missing. Nothing is left
// behind on failure.
result<block_device> dm_linear_create(const dm_linear_spec& spec,
                                      const std::string& control = "/dev/mapper/control");

// Removes the device `name`; it must not be mounted.
error dm_remove(const std::string& name, const std::string& control = "/dev/mapper/control");

} // namespace uvm::guest
