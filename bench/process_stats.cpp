#include "bench/process_stats.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <malloc.h>
#include <unistd.h>

namespace uvm::bench {

process_sample sample_process() {
  process_sample s;
  std::ifstream statm{"/proc/self/statm"};
  uint64_t pages = 0;
  uint64_t resident = 0;
  if (statm >> pages >> resident) {
    s.rss_bytes = resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  auto heap = ::mallinfo2();
  s.heap_in_use_bytes = heap.uordblks + heap.hblkhd;
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      s.threads = std::stoul(line.substr(8));
    }
  }
  std::error_code ec;
  for (auto i = std::filesystem::directory_iterator{"/proc/self/fd", ec};
       !ec && i != std::filesystem::directory_iterator{}; i.increment(ec)) {
    ++s.fds;
  }
  return s;
}

} // namespace uvm::bench
