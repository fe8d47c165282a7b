// The pure part of CreateLCOW / CreateWCOW (uvm-api.md §5.1-5.4): the final
// id, normalized CPU and memory, validation with the seed's error texts, and
// the exact ComputeSystem document (hcs-schema.md §4.2-4.4). What is left
// for the caller is asynchronous: create the system, open the listeners.
#pragma once

#include "messages/errors.hpp"
#include "messages/options.hpp"

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace uvm::hcs {

// Host file-system access, injectable for tests.
struct host_fs {
  // Only "does not exist" counts as absent (Go's os.IsNotExist).
  std::function<bool(const std::string&)> exists;
  // Recursive, mode 0777.
  std::function<uvm::error(const std::string&)> create_directories;
  std::function<uvm::error(const std::string& from, const std::string& to)> copy_file;
};

// std::filesystem; failures are errc::io_failure with the OS message.
host_fs real_host_fs();

struct create_plan {
  std::string id; // final id (v4 GUID generated when options had none)
  std::string owner;
  std::string os;                // "linux" or "windows"
  int32_t processor_count = 0;   // normalized
  int32_t memory_size_in_mb = 0; // normalized
  std::string document;          // exact bytes for HcsCreateComputeSystem
  uint32_t scsi_controller_count = 0;
  uint32_t vpmem_max_count = 0;
  uint64_t vpmem_max_size_bytes = 0;
  bool vpmem_multi_mapping = false; // !VPMemNoMultiMapping
  // VHD boot: VPMEM slot 0 holds the root FS under this key (the bare
  // RootFSFile, as in v0.8.8), else empty.
  std::string vpmem_slot0_key;
  // WCOW: SCSI 0:0 holds the scratch disk at this path, else empty.
  std::string scratch_disk_path;
  bool external_guest_connection = false;
  std::vector<std::string> warnings; // normalization notices
};

// Validation and merge failures are errc::invalid_options with the seed's
// texts, reported in the seed's order.
uvm::result<create_plan> plan_lcow(options_lcow opts, const host_info& host, const host_fs& fs);
// Also creates the scratch folder and copies SystemTemplate.vhdx into it
// through `fs` when they are missing; those failures keep the code `fs`
// gave them (io_failure) under the seed's wording.
uvm::result<create_plan> plan_wcow(options_wcow opts, const host_info& host, const host_fs& fs);

// Builders used by the plans, exposed for tests.
std::string lcow_kernel_cmdline(const options_lcow& opts);
nlohmann::ordered_json lcow_document(const options_lcow& normalized, int32_t processor_count,
                                     int32_t memory_mb);
nlohmann::ordered_json wcow_document(const options_wcow& normalized, int32_t processor_count,
                                     int32_t memory_mb, const std::string& uvm_folder,
                                     const std::string& scratch_disk_path);

// Serializes `document`, merged with `additional` when that is non-empty
// (hcs-schema.md §4.4). Errors carry the text
// `failed to merge additional JSON '<additional>': <reason>`.
uvm::result<std::string> merge_document(const nlohmann::ordered_json& document,
                                        const std::string& additional);

} // namespace uvm::hcs
