#include "bench/core/process_stats.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <dirent.h>
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <unistd.h>

namespace uvm::bench {

namespace {

// jemalloc's control call, found at run time: the benches that link it and
// the tests that do not share this file, and a preloaded jemalloc counts too.
using mallctl_fn = int (*)(const char*, void*, size_t*, void*, size_t);

mallctl_fn jemalloc_ctl() {
  static const auto fn = reinterpret_cast<mallctl_fn>(::dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

uint64_t heap_in_use() {
  if (auto ctl = jemalloc_ctl()) {
    // Its statistics are a snapshot, refreshed by advancing the epoch.
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    size_t allocated = 0;
    size_t allocated_len = sizeof allocated;
    if (ctl("epoch", &epoch, &len, &epoch, len) == 0 &&
        ctl("stats.allocated", &allocated, &allocated_len, nullptr, 0) == 0) {
      return allocated;
    }
  }
  auto heap = ::mallinfo2();
  return heap.uordblks + heap.hblkhd;
}

} // namespace

std::string allocator_name() {
  if (auto ctl = jemalloc_ctl()) {
    const char* version = nullptr;
    size_t len = sizeof version;
    if (ctl("version", &version, &len, nullptr, 0) == 0 && version != nullptr) {
      return std::string{"jemalloc "} + version;
    }
    return "jemalloc";
  }
  return std::string{"glibc "} + ::gnu_get_libc_version();
}

process_sample sample_process() {
  process_sample s;
  {
    // Closed before the descriptors are listed: the reading is not counted.
    std::ifstream statm{"/proc/self/statm"};
    uint64_t pages = 0;
    uint64_t resident = 0;
    if (statm >> pages >> resident) {
      s.rss_bytes = resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    }
  }
  s.heap_in_use_bytes = heap_in_use();
  s.threads = thread_count();
  s.fds = open_descriptors().size();
  return s;
}

size_t thread_count() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoul(line.substr(8));
    }
  }
  return 0;
}

std::multiset<std::string> open_descriptors() {
  std::multiset<std::string> out;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) {
    return out;
  }
  for (auto* e = ::readdir(d); e != nullptr; e = ::readdir(d)) {
    if (e->d_name[0] == '.' || std::atoi(e->d_name) == ::dirfd(d)) {
      continue;
    }
    char target[512];
    auto n = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target - 1);
    out.insert(n < 0 ? std::string{"?"} : std::string{target, static_cast<size_t>(n)});
  }
  ::closedir(d);
  return out;
}

std::multiset<std::string> settled_descriptors() {
  auto last = open_descriptors();
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    auto now = open_descriptors();
    if (now == last) {
      break;
    }
    last = std::move(now);
  }
  return last;
}

std::string describe(const std::multiset<std::string>& fds) {
  std::string s;
  for (const auto& f : fds) {
    s += (s.empty() ? "" : ", ") + f;
  }
  return s;
}

} // namespace uvm::bench
