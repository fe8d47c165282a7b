#include "messages/options.hpp"

namespace uvm {
namespace {

bool is_windows_path(const std::string& dir) {
  bool drive = dir.size() >= 2 && dir[1] == ':' &&
               ((dir[0] >= 'A' && dir[0] <= 'Z') || (dir[0] >= 'a' && dir[0] <= 'z'));
  return drive || dir.find('\\') != std::string::npos;
}

} // namespace

std::string join_host_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) {
    return name;
  }
  bool windows = is_windows_path(dir);
  char last = dir.back();
  if (last == '/' || (windows && last == '\\')) {
    return dir + name;
  }
  return dir + (windows ? '\\' : '/') + name;
}

options new_default_options(const std::string& id, const std::string& owner,
                            const host_info& host) {
  options opts;
  opts.id = id;
  opts.owner = owner.empty() ? host.executable_name : owner;
  opts.processor_count = host.logical_cpus == 1 ? 1 : 2;
  return opts;
}

options_lcow new_default_options_lcow(const std::string& id, const std::string& owner,
                                      const host_info& host, exists_fn exists) {
  options_lcow opts;
  opts.common = new_default_options(id, owner, host);
  // This package runs the GCS bridge itself for Linux guests.
  opts.common.external_guest_connection = true;
  opts.kernel_direct = host.os_build >= kernel_direct_min_build;
  opts.exec_command_line = "/bin/gcs -v4 -log-format json -loglevel " + host.log_level;

  std::string beside_exe = join_host_path(host.executable_dir, "LinuxBootFiles");
  opts.boot_files_path =
      exists(beside_exe) ? beside_exe : join_host_path(host.program_files, "Linux Containers");
  if (exists(join_host_path(opts.boot_files_path, vhd_file))) {
    opts.root_fs_file = vhd_file;
    opts.preferred_root_fs_type = preferred_rootfs_type::vhd;
  }
  if (opts.kernel_direct &&
      exists(join_host_path(opts.boot_files_path, uncompressed_kernel_file))) {
    opts.kernel_file = uncompressed_kernel_file;
  }
  return opts;
}

options_wcow new_default_options_wcow(const std::string& id, const std::string& owner,
                                      const host_info& host) {
  options_wcow opts;
  opts.common = new_default_options(id, owner, host);
  return opts;
}

} // namespace uvm
