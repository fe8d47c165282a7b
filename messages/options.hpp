// Options of CreateLCOW / CreateWCOW, with the seed's fields and defaults
// (spec/uvm-api.md §3). Plain data: the rules that check and normalise them
// live in hcs/create_plan.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace uvm {

// Facts about the host that the seed's defaults and checks depend on. On
// Windows they come from the OS; here the engine fills them in (and tests pin
// them) so that documents are reproducible.
struct host_info {
  int32_t logical_cpus = 2;
  uint32_t os_build = 19041;      // >= 18286 (kernel direct), >= 18967 (cold discard)
  std::string executable_name;    // default Owner
  std::string executable_dir;     // where a LinuxBootFiles folder is looked for
  std::string log_level = "info"; // goes into the default ExecCommandLine
  std::string program_files = "C:\\Program Files";
};

enum class preferred_rootfs_type : int32_t { initrd = 0, vhd = 1 };

// VMAccessType (uvm-api.md §7.1).
enum class vm_access_type : int32_t { noop = 0, group = 1, individual = 2 };

constexpr uint32_t max_vpmem_count = 128;
constexpr uint32_t default_vpmem_count = 64;
constexpr uint64_t default_vpmem_size_bytes = 4ull * 1024 * 1024 * 1024;
constexpr const char* initrd_file = "initrd.img";
constexpr const char* vhd_file = "rootfs.vhd";
constexpr const char* kernel_file = "kernel";
constexpr const char* uncompressed_kernel_file = "vmlinux";
constexpr uint32_t kernel_direct_min_build = 18286;
constexpr uint32_t cold_discard_min_build = 18967;
// SCSI controllers a VM may have (v0.8.8 allowed 0 or 1; the team allows 4).
constexpr uint32_t max_scsi_controllers = 4;

// Options common to both OSes (Go: uvm.Options).
struct options {
  std::string id;
  std::string owner;
  std::string addition_hcs_document_json;
  int32_t memory_size_in_mb = 1024;
  uint64_t low_mmio_gap_in_mb = 0;
  uint64_t high_mmio_base_in_mb = 0;
  uint64_t high_mmio_gap_in_mb = 0;
  bool allow_overcommit = true;
  bool enable_deferred_commit = false;
  int32_t processor_count = 2;
  int32_t processor_limit = 0;
  int32_t processor_weight = 0;
  int32_t storage_qos_iops_maximum = 0;
  int32_t storage_qos_bandwidth_maximum = 0;
  bool external_guest_connection = false;
  // Not in the seed: the HCS backend that runs this VM ("sim" or "qemu");
  // empty for the engine's default (engine_config::backend).
  std::string backend;
};

// Go: uvm.OutputHandler, fed instead of reading: the bytes of the guest's
// log channel as they arrive (`end` false), then one call with `end` true
// and no bytes when the channel ends. Called on the engine's I/O loop,
// never twice at once for one channel: it must not block. A VM that is
// restarted opens a new channel, so the same handler then also sees the
// new guest's bytes; the old channel may still deliver for up to a second
// (bridge::log_grace), so a handler kept across restarts must lock.
using output_handler = std::function<void(std::string_view chunk, bool end)>;

// Go: uvm.OptionsLCOW.
struct options_lcow {
  options common;
  std::string boot_files_path;
  std::string kernel_file = uvm::kernel_file;
  bool kernel_direct = true;
  std::string root_fs_file = uvm::initrd_file;
  std::string kernel_boot_options;
  bool enable_graphics_console = false;
  std::string console_pipe;
  uint32_t scsi_controller_count = 1;
  bool use_guest_connection = true;
  std::string exec_command_line;
  bool forward_stdout = false;
  bool forward_stderr = true;
  // Empty: the default handler (uvm-api.md §5.6) bound to the final id,
  // which re-logs the guest's JSON log lines with the VM id. Set through
  // the embedding API only: options JSON and remote nodes do not carry it.
  output_handler output;
  uint32_t vpmem_device_count = default_vpmem_count;
  uint64_t vpmem_size_bytes = default_vpmem_size_bytes;
  // Go (later hcsshim): VPMemNoMultiMapping. False packs several layers
  // into one device (README: VPMEM multi-mapping). True by default: v0.8.8
  // had a device per layer; later hcsshim packs only from 19H1.
  bool vpmem_no_multi_mapping = true;
  preferred_rootfs_type preferred_root_fs_type = preferred_rootfs_type::initrd;
  bool enable_cold_discard_hint = false;
  bool vpci_enabled = false;
};

// Go: uvm.OptionsWCOW.
struct options_wcow {
  options common;
  std::vector<std::string> layer_folders;
};

// newDefaultOptions / NewDefaultOptionsLCOW / NewDefaultOptionsWCOW.
// `exists` answers whether a file or folder exists (the LCOW defaults look
// for LinuxBootFiles, vmlinux and rootfs.vhd).
using exists_fn = std::function<bool(const std::string& path)>;

options new_default_options(const std::string& id, const std::string& owner, const host_info& host);
options_lcow new_default_options_lcow(const std::string& id, const std::string& owner,
                                      const host_info& host, exists_fn exists);
options_wcow new_default_options_wcow(const std::string& id, const std::string& owner,
                                      const host_info& host);

// Joins a folder and a file name the way the path looks: Windows-style
// folders (a drive letter or a backslash) with '\', others with '/'.
std::string join_host_path(const std::string& dir, const std::string& name);

} // namespace uvm
