// What this process holds now, from /proc/self: resident memory, threads
// and open descriptors; and from glibc's allocator, the heap bytes in use,
// which tell a leak (both grow) from retained free memory (only RSS does).
#pragma once

#include <cstddef>
#include <cstdint>

namespace uvm::bench {

struct process_sample {
  uint64_t rss_bytes = 0;
  uint64_t heap_in_use_bytes = 0; // allocated and not freed (mallinfo2)
  size_t threads = 0;
  size_t fds = 0;
};

process_sample sample_process();

} // namespace uvm::bench
