// What the benches share: the boot files CreateLCOW checks for, a latch,
// percentiles and clocks.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

namespace uvm::bench {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Boot files CreateLCOW checks for; the simulator boots nothing.
struct boot_files {
  fs::path dir = fs::temp_directory_path() / ("uvm-bench-" + std::to_string(::getpid()));
  boot_files() {
    fs::create_directories(dir);
    std::ofstream(dir / "kernel") << "k\n";
    std::ofstream(dir / "initrd.img") << "i\n";
  }
  ~boot_files() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Waits until `n` completions were counted.
class latch {
public:
  explicit latch(size_t n) : left_(n) {}
  void count_down() {
    std::lock_guard<std::mutex> lock{m_};
    if (--left_ == 0) {
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock<std::mutex> lock{m_};
    cv_.wait(lock, [&] { return left_ == 0; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  size_t left_;
};

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

inline double seconds_between(clock_type::time_point t0, clock_type::time_point t1) {
  return std::chrono::duration<double>(t1 - t0).count();
}

inline double seconds_since(clock_type::time_point t0) {
  return seconds_between(t0, clock_type::now());
}

} // namespace uvm::bench
