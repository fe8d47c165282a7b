// The engine's descriptor limit: raised at start as far as the process may
// (the soft limit to the hard one; a privileged process also raises the
// hard limit, up to fs.nr_open), because each VM whose guest is reached
// over a socket holds descriptors.
#pragma once

#include <cstdint>
#include <string>

namespace uvm {

struct descriptor_limit {
  uint64_t before = 0; // the soft limit found
  uint64_t now = 0;    // the soft limit after raising it
  std::string note;    // why it could not go further, if it could not
};

// Raises RLIMIT_NOFILE towards `wanted` (0: as far as allowed).
descriptor_limit raise_descriptor_limit(uint64_t wanted = 0);

} // namespace uvm
