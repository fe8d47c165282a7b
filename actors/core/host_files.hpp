// The host file facts the device calls check (uvm-api.md §8.1, §9): Go's
// os.Stat, with its error text ("stat <path>: no such file or directory").
// hcs/host_path checks what kind of file a call needs.
#pragma once

#include <cstdint>
#include <string>

#include "messages/errors.hpp"

namespace uvm {

struct host_file_info {
  bool is_directory = false;
  uint64_t size_bytes = 0;
};

result<host_file_info> stat_host_path(const std::string& path);

} // namespace uvm
