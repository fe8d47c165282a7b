// The VPMEM child of a utility VM (uvm-api.md §8): the device table
// (actors/core/vpmem_table) behind a mailbox, with the §4 dispatcher around
// it. LCOW only. With multi-mapping, layers are packed into shared devices
// (hcs::vpmem_map); else a device holds one layer. Adds of different layers overlap; a second
// caller for a layer being attached waits for that attach and shares it.
#pragma once

#include <optional>
#include <string>

#include "actors/device_child.hpp"

namespace uvm {

struct vpmem_context {
  device_env env;
  uint32_t max_count = 0;
  uint64_t max_size_bytes = 0;
  std::optional<std::string> rootfs_file; // VHD boot: device 0
  bool packed = false;                    // multi-mapping (README)
};

vpmem_child spawn_vpmem_controller(caf::local_actor* parent, vpmem_context ctx);

} // namespace uvm
