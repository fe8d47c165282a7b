// Checks on the host paths the engine opens itself (a VPMEM image, a disk
// QEMU attaches, a folder a Plan9 share binds, the kernel QEMU loads),
// made before they are used, with Go's os error texts, which the seed
// returns raw (uvm-api.md §8.1, §9):
//
//   stat <path>: no such file or directory    (and the other stat errors)
//   open <path>: is a directory                a file was needed
//   open <path>: not a directory               a folder was needed
//   open <path>: block device required         a physical disk was needed
//   open <path>: not a regular file            a fifo, socket or device
//
// Pure apart from stat(2).
#pragma once

#include <cstdint>
#include <string>

#include "messages/errors.hpp"

namespace uvm::hcs {

enum class host_path_kind { regular_file, directory, block_device, other };

struct host_path_info {
  host_path_kind kind = host_path_kind::other;
  uint64_t size_bytes = 0;
};

// What a call needs the path to be.
enum class host_path_need { anything, regular_file, directory, block_device };

// An errno as Go's syscall package words it ("no such file or directory").
std::string go_errno_text(int err);

// stat(2) of `path` (following links); on failure Go's os.Stat error text
// ("stat <path>: no such file or directory"), errc::io_failure.
result<host_path_info> stat_host_path(const std::string& path);

// stat_host_path, then the kind check; a path of the wrong kind is an
// errc::bad_request error with the texts above.
result<host_path_info> check_host_path(const std::string& path, host_path_need need);

} // namespace uvm::hcs
