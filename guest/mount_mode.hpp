// What the agent's ModifySettings does besides keeping the mount table
// (`gcs --mounts table|real`): nothing (the in-process agent, every test on
// the host), or the mounts themselves (inside a utility VM, mounter.hpp).
#pragma once

#include <string>

#include "messages/errors.hpp"

namespace uvm::guest {

enum class mount_mode { table, real };

// "table" or "real".
result<mount_mode> parse_mount_mode(const std::string& text);

} // namespace uvm::guest
