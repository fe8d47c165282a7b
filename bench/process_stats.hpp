// What this process holds now, from /proc/self: resident memory, threads
// and open descriptors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace uvm::bench {

struct process_sample {
  uint64_t rss_bytes = 0;
  size_t threads = 0;
  size_t fds = 0;
};

process_sample sample_process();

} // namespace uvm::bench
