#include "hcs/qemu/vpmem_pack.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace uvm::hcs::qemu {

namespace {

error failure(const std::string& what, int err) {
  return error{errc::io_failure, what + ": " + std::strerror(err)};
}

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

} // namespace

result<vpmem_pack> vpmem_pack::create(const std::string& file, uint64_t size_bytes) {
  fd_closer out{::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
  if (out.fd < 0) {
    return failure("create " + file, errno);
  }
  if (::ftruncate(out.fd, static_cast<off_t>(size_bytes)) != 0) {
    return failure("size " + file, errno);
  }
  return vpmem_pack{file, size_bytes};
}

error vpmem_pack::place(uint64_t offset, const std::string& image, uint64_t bytes) {
  if (offset > size_ || bytes > size_ - offset) {
    return error{errc::bad_request, image + " (" + std::to_string(bytes) +
                                        " bytes) does not fit at offset " + std::to_string(offset) +
                                        " of a " + std::to_string(size_) + "-byte device"};
  }
  auto next = ranges_.lower_bound(offset);
  bool overlaps_next = next != ranges_.end() && next->first < offset + bytes;
  bool overlaps_previous = next != ranges_.begin() && std::prev(next)->second.first > offset;
  if (overlaps_next || overlaps_previous) {
    const auto& other = overlaps_next ? next->second.second : std::prev(next)->second.second;
    return error{errc::bad_request,
                 image + " at offset " + std::to_string(offset) + " overlaps " + other};
  }
  fd_closer in{::open(image.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    return failure("open " + image, errno);
  }
  fd_closer out{::open(file_.c_str(), O_WRONLY | O_CLOEXEC)};
  if (out.fd < 0) {
    return failure("open " + file_, errno);
  }
  std::vector<char> buffer(1 << 20);
  for (uint64_t done = 0; done < bytes;) {
    auto want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), bytes - done));
    auto got = ::pread(in.fd, buffer.data(), want, static_cast<off_t>(done));
    if (got <= 0) {
      return got == 0 ? error{errc::io_failure, "read " + image + ": shorter than " +
                                                    std::to_string(bytes) + " bytes"}
                      : failure("read " + image, errno);
    }
    for (ssize_t put = 0; put < got;) {
      auto n = ::pwrite(out.fd, buffer.data() + put, static_cast<size_t>(got - put),
                        static_cast<off_t>(offset + done + static_cast<uint64_t>(put)));
      if (n < 0) {
        return failure("write " + file_, errno);
      }
      put += n;
    }
    done += static_cast<uint64_t>(got);
  }
  ranges_.emplace(offset, std::make_pair(offset + bytes, image));
  return {};
}

bool vpmem_pack::forget(uint64_t offset) {
  return ranges_.erase(offset) != 0;
}

} // namespace uvm::hcs::qemu
