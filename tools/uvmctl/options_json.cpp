#include "tools/uvmctl/options_json.hpp"

#include <filesystem>

#include "tools/uvmctl/json_fields.hpp"

namespace uvm::cli {

namespace {

using nlohmann::json;

field_reader options_reader(const json& j) {
  return field_reader{j, "options field ", '\''};
}

void read_common(field_reader& r, options& o) {
  o.id = r.text("ID", o.id);
  o.owner = r.text("Owner", o.owner);
  o.addition_hcs_document_json = r.text("AdditionHCSDocumentJSON", o.addition_hcs_document_json);
  o.memory_size_in_mb = r.integer("MemorySizeInMB", o.memory_size_in_mb);
  o.low_mmio_gap_in_mb = r.integer("LowMMIOGapInMB", o.low_mmio_gap_in_mb);
  o.high_mmio_base_in_mb = r.integer("HighMMIOBaseInMB", o.high_mmio_base_in_mb);
  o.high_mmio_gap_in_mb = r.integer("HighMMIOGapInMB", o.high_mmio_gap_in_mb);
  o.allow_overcommit = r.flag("AllowOvercommit", o.allow_overcommit);
  o.enable_deferred_commit = r.flag("EnableDeferredCommit", o.enable_deferred_commit);
  o.processor_count = r.integer("ProcessorCount", o.processor_count);
  o.processor_limit = r.integer("ProcessorLimit", o.processor_limit);
  o.processor_weight = r.integer("ProcessorWeight", o.processor_weight);
  o.storage_qos_iops_maximum = r.integer("StorageQoSIopsMaximum", o.storage_qos_iops_maximum);
  o.storage_qos_bandwidth_maximum =
      r.integer("StorageQoSBandwidthMaximum", o.storage_qos_bandwidth_maximum);
  o.external_guest_connection = r.flag("ExternalGuestConnection", o.external_guest_connection);
  o.backend = r.text("Backend", o.backend);
  if (!o.backend.empty() && o.backend != "sim" && o.backend != "qemu") {
    r.fail(r.label("Backend") + " must be \"sim\" or \"qemu\", got " + describe_json(o.backend));
  }
}

// ID and Owner feed the defaults, which come before the other fields.
std::string string_member(const json& j, const char* name) {
  auto i = j.find(name);
  return i != j.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

error check_object(const json& j, const char* what) {
  if (!j.is_null() && !j.is_object()) {
    return error{errc::bad_request,
                 std::string{what} + " must be an object, got " + describe_json(j)};
  }
  return error{};
}

} // namespace

bool host_path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

result<options_lcow> lcow_options_from_json(const json& j, const host_info& host,
                                            const exists_fn& exists) {
  if (auto e = check_object(j, "options")) {
    return e;
  }
  auto src = j.is_null() ? json::object() : j;
  auto o =
      new_default_options_lcow(string_member(src, "ID"), string_member(src, "Owner"), host, exists);
  auto r = options_reader(src);
  read_common(r, o.common);
  o.boot_files_path = r.text("BootFilesPath", o.boot_files_path);
  o.kernel_file = r.text("KernelFile", o.kernel_file);
  o.kernel_direct = r.flag("KernelDirect", o.kernel_direct);
  o.root_fs_file = r.text("RootFSFile", o.root_fs_file);
  o.kernel_boot_options = r.text("KernelBootOptions", o.kernel_boot_options);
  o.enable_graphics_console = r.flag("EnableGraphicsConsole", o.enable_graphics_console);
  o.console_pipe = r.text("ConsolePipe", o.console_pipe);
  o.scsi_controller_count = r.integer("SCSIControllerCount", o.scsi_controller_count);
  o.use_guest_connection = r.flag("UseGuestConnection", o.use_guest_connection);
  o.exec_command_line = r.text("ExecCommandLine", o.exec_command_line);
  o.forward_stdout = r.flag("ForwardStdout", o.forward_stdout);
  o.forward_stderr = r.flag("ForwardStderr", o.forward_stderr);
  o.vpmem_device_count = r.integer("VPMemDeviceCount", o.vpmem_device_count);
  o.vpmem_size_bytes = r.integer("VPMemSizeBytes", o.vpmem_size_bytes);
  o.vpmem_no_multi_mapping = r.flag("VPMemNoMultiMapping", o.vpmem_no_multi_mapping);
  // Go: PreferredRootFSType int, with two values.
  o.preferred_root_fs_type = static_cast<preferred_rootfs_type>(
      r.integer_in("PreferredRootFSType", static_cast<int32_t>(o.preferred_root_fs_type), 0, 1,
                   "0 = PreferredRootFSTypeInitRd, 1 = PreferredRootFSTypeVHD"));
  o.enable_cold_discard_hint = r.flag("EnableColdDiscardHint", o.enable_cold_discard_hint);
  o.vpci_enabled = r.flag("VPCIEnabled", o.vpci_enabled);
  r.reject_unknown();
  if (r.err()) {
    return r.err();
  }
  return o;
}

result<options_wcow> wcow_options_from_json(const json& j, const host_info& host) {
  if (auto e = check_object(j, "options")) {
    return e;
  }
  auto src = j.is_null() ? json::object() : j;
  auto o = new_default_options_wcow(string_member(src, "ID"), string_member(src, "Owner"), host);
  auto r = options_reader(src);
  read_common(r, o.common);
  o.layer_folders = r.texts("LayerFolders");
  r.reject_unknown();
  if (r.err()) {
    return r.err();
  }
  return o;
}

result<restart_policy> restart_policy_from_json(const json& j) {
  if (auto e = check_object(j, "restart_policy")) {
    return e;
  }
  restart_policy p;
  field_reader r{j, "restart_policy field ", '\''};
  auto kind = r.text("policy", "never");
  if (kind == "never") {
    p.kind = restart_kind::never;
  } else if (kind == "on-failure") {
    p.kind = restart_kind::on_failure;
  } else {
    r.fail("restart policy must be \"never\" or \"on-failure\"");
  }
  p.max_restarts = r.integer("max_restarts", p.max_restarts);
  p.window_ms = r.integer("window_ms", p.window_ms);
  p.backoff_initial_ms = r.integer("backoff_ms", p.backoff_initial_ms);
  p.backoff_max_ms = r.integer("backoff_max_ms", p.backoff_max_ms);
  r.reject_unknown();
  if (r.err()) {
    return r.err();
  }
  return p;
}

} // namespace uvm::cli
