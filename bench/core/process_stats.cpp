#include "bench/core/process_stats.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <dirent.h>
#include <malloc.h>
#include <unistd.h>

namespace uvm::bench {

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
  auto heap = ::mallinfo2();
  s.heap_in_use_bytes = heap.uordblks + heap.hblkhd;
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
