#include "hcs/host_path.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <sys/stat.h>

namespace uvm::hcs {

namespace {

host_path_kind kind_of(mode_t mode) {
  if (S_ISREG(mode)) {
    return host_path_kind::regular_file;
  }
  if (S_ISDIR(mode)) {
    return host_path_kind::directory;
  }
  if (S_ISBLK(mode)) {
    return host_path_kind::block_device;
  }
  return host_path_kind::other;
}

} // namespace

// Go's syscall.Errno texts are the C library's, starting in lower case.
std::string go_errno_text(int err) {
  std::string why = std::strerror(err);
  if (!why.empty()) {
    why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  }
  return why;
}

result<host_path_info> stat_host_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return error{errc::io_failure, "stat " + path + ": " + go_errno_text(errno)};
  }
  return host_path_info{kind_of(st.st_mode), static_cast<uint64_t>(st.st_size)};
}

result<host_path_info> check_host_path(const std::string& path, host_path_need need) {
  auto info = stat_host_path(path);
  if (!info) {
    return info;
  }
  auto wrong = [&](int err) {
    return error{errc::bad_request, "open " + path + ": " + go_errno_text(err)};
  };
  switch (need) {
  case host_path_need::anything:
    break;
  case host_path_need::regular_file:
    if (info->kind == host_path_kind::directory) {
      return wrong(EISDIR);
    }
    if (info->kind != host_path_kind::regular_file) {
      return error{errc::bad_request, "open " + path + ": not a regular file"};
    }
    break;
  case host_path_need::directory:
    if (info->kind != host_path_kind::directory) {
      return wrong(ENOTDIR);
    }
    break;
  case host_path_need::block_device:
    if (info->kind != host_path_kind::block_device) {
      return wrong(ENOTBLK);
    }
    break;
  }
  return info;
}

} // namespace uvm::hcs
