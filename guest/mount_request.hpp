// The guest requests of ModifySettings that the agent performs itself when
// it runs inside a utility VM (gcs-bridge.md §7.10, uvm-api.md §7, §8, §10,
// §13), as plain data read from a request's Settings. Absent members are
// Go's zero values (the host omits them: `omitempty`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"

namespace uvm::guest {

// MappedVirtualDisk: an ext4 disk at a LUN of a virtio-scsi controller.
struct scsi_disk_mount {
  std::string mount_path;
  uint32_t controller = 0;
  uint32_t lun = 0;
  bool read_only = false;
};

// Where a packed layer sits in its device (MappingInfo).
struct vpmem_mapping {
  uint64_t offset = 0;
  uint64_t size_bytes = 0;
};

// VPMemDevice: an ext4 layer on a virtio-pmem device, always read-only;
// a packed layer is the device's range `mapping`, seen through a
// device-mapper linear target.
struct vpmem_mount {
  std::string mount_path;
  uint32_t device_number = 0;
  std::optional<vpmem_mapping> mapping;
};

// MappedDirectory: a Plan9 share; its virtio 9p mount tag is the share name.
struct plan9_mount {
  std::string mount_path;
  std::string share_name;
  bool read_only = false;
};

// CombinedLayers: an overlay of `layers` (first = top-most) at `root`,
// writable into `scratch` when it is set.
struct overlay_mount {
  std::string root;
  std::vector<std::string> layers;
  std::string scratch;
};

// A request with nothing to do in the guest's file system (other resource
// types, a disk attached without a mount path).
struct no_mount {};

using mount_target =
    std::variant<no_mount, scsi_disk_mount, vpmem_mount, plan9_mount, overlay_mount>;

struct mount_request {
  bool add = true; // "Add"; false: "Remove"
  mount_target target;
};

// Reads a request the mount table has accepted: `request_type` is "Add" or
// "Remove". Settings of the wrong shape (a number that is not one, a
// missing path) are errors that name the member.
result<mount_request> parse_mount_request(const std::string& resource_type,
                                          const std::string& request_type,
                                          const nlohmann::json& settings);

} // namespace uvm::guest
