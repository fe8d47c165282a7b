#include "tools/uvmctl/options_json.hpp"

#include <filesystem>
#include <set>

namespace uvm::cli {

namespace {

bool path_exists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

// Reads one member into `out` if present; records a type error otherwise.
class reader {
public:
  explicit reader(const nlohmann::json& j) : j_(j) {}

  template <class T>
  void get(const char* name, T& out) {
    seen_.insert(name);
    auto i = j_.find(name);
    if (i == j_.end() || i->is_null()) {
      return;
    }
    try {
      out = i->get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(std::string{"options field "} + name + " has the wrong type");
    }
  }

  void fail(std::string text) {
    if (!err_) {
      err_ = error{errc::bad_request, std::move(text)};
    }
  }

  // Unknown fields are an error, not silently ignored: a typo must show.
  error finish() {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (seen_.count(it.key()) == 0) {
        fail("unknown options field '" + it.key() + "'");
      }
    }
    return err_;
  }

private:
  const nlohmann::json& j_;
  std::set<std::string> seen_;
  error err_;
};

void read_common(reader& r, options& o) {
  r.get("ID", o.id);
  r.get("Owner", o.owner);
  r.get("AdditionHCSDocumentJSON", o.addition_hcs_document_json);
  r.get("MemorySizeInMB", o.memory_size_in_mb);
  r.get("LowMMIOGapInMB", o.low_mmio_gap_in_mb);
  r.get("HighMMIOBaseInMB", o.high_mmio_base_in_mb);
  r.get("HighMMIOGapInMB", o.high_mmio_gap_in_mb);
  r.get("AllowOvercommit", o.allow_overcommit);
  r.get("EnableDeferredCommit", o.enable_deferred_commit);
  r.get("ProcessorCount", o.processor_count);
  r.get("ProcessorLimit", o.processor_limit);
  r.get("ProcessorWeight", o.processor_weight);
  r.get("StorageQoSIopsMaximum", o.storage_qos_iops_maximum);
  r.get("StorageQoSBandwidthMaximum", o.storage_qos_bandwidth_maximum);
  r.get("ExternalGuestConnection", o.external_guest_connection);
  r.get("Backend", o.backend);
}

std::string string_member(const nlohmann::json& j, const char* name) {
  auto i = j.find(name);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

} // namespace

result<options_lcow> lcow_options_from_json(const nlohmann::json& j, const host_info& host) {
  if (!j.is_null() && !j.is_object()) {
    return error{errc::bad_request, "options must be an object"};
  }
  auto src = j.is_null() ? nlohmann::json::object() : j;
  auto o = new_default_options_lcow(string_member(src, "ID"), string_member(src, "Owner"), host,
                                    path_exists);
  reader r{src};
  read_common(r, o.common);
  r.get("BootFilesPath", o.boot_files_path);
  r.get("KernelFile", o.kernel_file);
  r.get("KernelDirect", o.kernel_direct);
  r.get("RootFSFile", o.root_fs_file);
  r.get("KernelBootOptions", o.kernel_boot_options);
  r.get("EnableGraphicsConsole", o.enable_graphics_console);
  r.get("ConsolePipe", o.console_pipe);
  r.get("SCSIControllerCount", o.scsi_controller_count);
  r.get("UseGuestConnection", o.use_guest_connection);
  r.get("ExecCommandLine", o.exec_command_line);
  r.get("ForwardStdout", o.forward_stdout);
  r.get("ForwardStderr", o.forward_stderr);
  r.get("VPMemDeviceCount", o.vpmem_device_count);
  r.get("VPMemSizeBytes", o.vpmem_size_bytes);
  int32_t rootfs = static_cast<int32_t>(o.preferred_root_fs_type);
  r.get("PreferredRootFSType", rootfs);
  if (rootfs != 0 && rootfs != 1) {
    r.fail("PreferredRootFSType must be 0 (initrd) or 1 (VHD)");
  }
  o.preferred_root_fs_type = static_cast<preferred_rootfs_type>(rootfs);
  r.get("EnableColdDiscardHint", o.enable_cold_discard_hint);
  r.get("VPCIEnabled", o.vpci_enabled);
  if (auto e = r.finish()) {
    return e;
  }
  return o;
}

result<options_wcow> wcow_options_from_json(const nlohmann::json& j, const host_info& host) {
  if (!j.is_null() && !j.is_object()) {
    return error{errc::bad_request, "options must be an object"};
  }
  auto src = j.is_null() ? nlohmann::json::object() : j;
  auto o = new_default_options_wcow(string_member(src, "ID"), string_member(src, "Owner"), host);
  reader r{src};
  read_common(r, o.common);
  r.get("LayerFolders", o.layer_folders);
  if (auto e = r.finish()) {
    return e;
  }
  return o;
}

result<restart_policy> restart_policy_from_json(const nlohmann::json& j) {
  restart_policy p;
  if (j.is_null()) {
    return p;
  }
  if (!j.is_object()) {
    return error{errc::bad_request, "restart_policy must be an object"};
  }
  std::string kind = "never";
  reader r{j};
  r.get("policy", kind);
  r.get("max_restarts", p.max_restarts);
  r.get("window_ms", p.window_ms);
  r.get("backoff_ms", p.backoff_initial_ms);
  r.get("backoff_max_ms", p.backoff_max_ms);
  if (kind == "never") {
    p.kind = restart_kind::never;
  } else if (kind == "on-failure") {
    p.kind = restart_kind::on_failure;
  } else {
    r.fail("restart policy must be \"never\" or \"on-failure\"");
  }
  if (auto e = r.finish()) {
    return e;
  }
  return p;
}

} // namespace uvm::cli
