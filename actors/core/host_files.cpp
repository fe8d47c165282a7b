#include "actors/core/host_files.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <sys/stat.h>

namespace uvm {

result<host_file_info> stat_host_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    std::string why = std::strerror(errno);
    if (!why.empty()) {
      why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    }
    return error{errc::io_failure, "stat " + path + ": " + why};
  }
  return host_file_info{S_ISDIR(st.st_mode), static_cast<uint64_t>(st.st_size)};
}

} // namespace uvm
