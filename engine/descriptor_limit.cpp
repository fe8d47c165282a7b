#include "engine/descriptor_limit.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <sys/resource.h>

namespace uvm {

namespace {

uint64_t nr_open() {
  std::ifstream in{"/proc/sys/fs/nr_open"};
  uint64_t n = 0;
  return in >> n ? n : 0;
}

} // namespace

descriptor_limit raise_descriptor_limit(uint64_t wanted) {
  descriptor_limit out;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.note = std::string{"getrlimit: "} + std::strerror(errno);
    return out;
  }
  out.before = out.now = limit.rlim_cur;
  auto ceiling = std::max<uint64_t>(limit.rlim_max, nr_open());
  auto target = wanted == 0 ? ceiling : std::min(wanted, ceiling);
  if (target <= limit.rlim_cur) {
    return out;
  }
  // The hard limit first, when that is what it takes (a privileged
  // process only).
  if (target > limit.rlim_max) {
    rlimit raised{target, target};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      out.now = target;
      return out;
    }
    out.note = "the hard limit " + std::to_string(limit.rlim_max) +
               " cannot be raised: " + std::strerror(errno);
    target = limit.rlim_max;
  }
  rlimit raised{target, limit.rlim_max};
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
    out.now = target;
  } else {
    out.note = std::string{"setrlimit: "} + std::strerror(errno);
  }
  return out;
}

} // namespace uvm
