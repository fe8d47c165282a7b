// What this process holds now, from /proc/self: resident memory, threads
// and open descriptors; and from its allocator (jemalloc's or glibc's), the
// heap bytes in use, which tell a leak (both grow) from retained free
// memory (only RSS does).
// The benches report these; the tests that check nothing is left open
// compare descriptors by what each refers to, so a difference names them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace uvm::bench {

struct process_sample {
  uint64_t rss_bytes = 0;
  uint64_t heap_in_use_bytes = 0; // allocated and not freed
  size_t threads = 0;
  size_t fds = 0;
};

process_sample sample_process();

size_t thread_count();

// The malloc this process runs on, as the reports name it: "jemalloc
// 5.3.0-…" when the binary links jemalloc (or it is preloaded), else
// "glibc 2.36".
std::string allocator_name();

// What each open descriptor refers to ("socket:[..]", "pipe:[..]", a
// path); the one that reads the listing is not among them.
std::multiset<std::string> open_descriptors();

// A reading that holds for 10 ms (at most 1 s of trying). UBSan's vptr
// checks open and close a pipe pair on whichever thread makes one, so a
// single reading of a busy process may count a pair gone a moment later;
// a leaked descriptor is still there 10 ms on.
std::multiset<std::string> settled_descriptors();

// The reading as one line, for a failed check.
std::string describe(const std::multiset<std::string>& fds);

} // namespace uvm::bench
