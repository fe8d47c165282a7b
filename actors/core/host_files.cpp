#include "actors/core/host_files.hpp"

#include "hcs/host_path.hpp"

namespace uvm {

result<host_file_info> stat_host_path(const std::string& path) {
  auto info = hcs::stat_host_path(path);
  if (!info) {
    return info.err();
  }
  return host_file_info{info->kind == hcs::host_path_kind::directory, info->size_bytes};
}

} // namespace uvm
