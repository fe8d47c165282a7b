// The process's open descriptors, read as what each refers to, for tests
// that check nothing is left open: a difference names the descriptors.
#pragma once

#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>

namespace uvm::test {

// What each open descriptor refers to ("socket:[..]", "pipe:[..]", a path).
inline std::multiset<std::string> open_descriptors() {
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

// A reading that holds for 10 ms (at most 1 s of trying). UBSan's vptr
// checks open and close a pipe pair on whichever thread makes one, so a
// single reading of a busy process may count a pair gone a moment later;
// a leaked descriptor is still there 10 ms on.
inline std::multiset<std::string> settled_descriptors() {
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

inline std::string describe(const std::multiset<std::string>& fds) {
  std::string s;
  for (const auto& f : fds) {
    s += (s.empty() ? "" : ", ") + f;
  }
  return s;
}

} // namespace uvm::test
