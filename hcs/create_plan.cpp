#include "hcs/create_plan.hpp"

#include "gojson/go_json.hpp"
#include "hcs/guid.hpp"
#include "hcs/host_path.hpp"
#include "hcs/schema.hpp"

#include <filesystem>
#include <system_error>

namespace uvm::hcs {
namespace {

constexpr const char* gcs_init = "-e 1 /bin/vsockexec"; // read entropy from vsock port 1

error invalid(std::string text) {
  return error(errc::invalid_options, std::move(text));
}

// Shared by both OSes (uvm-api.md §3.4, §5.1 steps 1-4, §5.2 steps 1-2).
create_plan begin_plan(options& common, const host_info& host, const char* os) {
  if (common.id.empty()) {
    common.id = new_guid();
  }
  create_plan plan;
  plan.id = common.id;
  plan.owner = common.owner;
  plan.os = os;
  plan.external_guest_connection = common.external_guest_connection;

  plan.processor_count = common.processor_count;
  if (common.processor_count > host.logical_cpus) {
    plan.processor_count = host.logical_cpus;
    plan.warnings.push_back("Changing user requested CPUCount to current number of processors "
                            "(requested " +
                            std::to_string(common.processor_count) + ", assigned " +
                            std::to_string(host.logical_cpus) + ")");
  }
  // Round odd sizes up; wraps like Go's int32 arithmetic at the very top.
  auto rounded = static_cast<uint32_t>(common.memory_size_in_mb) + 1u;
  plan.memory_size_in_mb = static_cast<int32_t>(rounded & ~1u);
  if (plan.memory_size_in_mb != common.memory_size_in_mb) {
    plan.warnings.push_back("Changing user requested MemorySizeInMB to align to 2MB (requested " +
                            std::to_string(common.memory_size_in_mb) + ", assigned " +
                            std::to_string(plan.memory_size_in_mb) + ")");
  }
  return plan;
}

compute_system base_document(const options& common) {
  compute_system doc;
  doc.owner = common.owner;
  doc.schema_version = version{2, 1};
  doc.should_terminate_on_last_handle_closed = true;
  doc.virtual_machine.emplace();
  doc.virtual_machine->stop_on_reset = true;
  if (common.storage_qos_iops_maximum > 0 || common.storage_qos_bandwidth_maximum > 0) {
    doc.virtual_machine->storage_qos =
        storage_qos{common.storage_qos_iops_maximum, common.storage_qos_bandwidth_maximum};
  }
  return doc;
}

memory2 base_memory(const options& common, int32_t memory_mb) {
  memory2 mem;
  mem.size_in_mb = memory_mb;
  mem.allow_overcommit = common.allow_overcommit;
  mem.enable_deferred_commit = common.enable_deferred_commit;
  mem.low_mmio_gap_in_mb = common.low_mmio_gap_in_mb;
  mem.high_mmio_base_in_mb = common.high_mmio_base_in_mb;
  mem.high_mmio_gap_in_mb = common.high_mmio_gap_in_mb;
  return mem;
}

processor2 base_processor(const options& common, int32_t processor_count) {
  return processor2{processor_count, common.processor_limit, common.processor_weight, false};
}

hv_socket2 uvm_hv_socket() {
  hv_socket_system_config config;
  config.default_bind_security_descriptor = default_bind_security_descriptor;
  return hv_socket2{config};
}

// Go decodes every JSON number into a float64 when it merges documents.
void numbers_as_doubles(nlohmann::json& j) {
  if (j.is_number()) {
    j = j.get<double>();
  } else if (j.is_structured()) {
    for (auto& member : j) {
      numbers_as_doubles(member);
    }
  }
}

// hcsshim's mergemaps.Merge(add, base): `add` wins except where both are
// objects (merged) or `add` is null over a base object (base kept).
void merge_into(nlohmann::json& add, const nlohmann::json& base) {
  for (auto it = base.begin(); it != base.end(); ++it) {
    auto found = add.find(it.key());
    if (found == add.end()) {
      add[it.key()] = *it;
    } else if (it->is_object() && found->is_object()) {
      merge_into(*found, *it);
    } else if (it->is_object() && found->is_null()) {
      *found = *it;
    }
  }
}

const char* go_kind(const nlohmann::json& j) {
  if (j.is_array()) {
    return "array";
  }
  if (j.is_string()) {
    return "string";
  }
  return j.is_boolean() ? "bool" : "number";
}

} // namespace

host_fs real_host_fs() {
  namespace fs = std::filesystem;
  host_fs out;
  out.exists = [](const std::string& path) {
    std::error_code ec;
    return fs::status(path, ec).type() != fs::file_type::not_found;
  };
  out.create_directories = [](const std::string& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    return ec ? error(errc::io_failure, "mkdir " + path + ": " + go_errno_text(ec.value()))
              : error();
  };
  out.copy_file = [](const std::string& from, const std::string& to) {
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    return ec ? error(errc::io_failure,
                      "copy " + from + " to " + to + ": " + go_errno_text(ec.value()))
              : error();
  };
  return out;
}

std::string lcow_kernel_cmdline(const options_lcow& opts) {
  std::string args;
  bool debug = false;
  if (opts.preferred_root_fs_type == preferred_rootfs_type::vhd) {
    args = "root=/dev/pmem0 ro rootwait init=/init";
  } else if (!opts.kernel_direct) {
    args = "initrd=/" + opts.root_fs_file;
  }
  if (!opts.console_pipe.empty()) {
    args += " 8250_core.nr_uarts=1 8250_core.skip_txen_test=1 console=ttyS0,115200";
    debug = true;
  } else {
    args += " 8250_core.nr_uarts=0";
  }
  if (opts.enable_graphics_console) {
    args += " console=tty";
    debug = true;
  }
  if (!debug) {
    args += " panic=-1 quiet";
  }
  if (!opts.kernel_boot_options.empty()) {
    args += " " + opts.kernel_boot_options;
  }
  if (!opts.vpci_enabled) {
    args += " pci=off";
  }
  std::string init = gcs_init;
  if (opts.forward_stdout) {
    init += " -o 109";
  }
  if (opts.forward_stderr) {
    init += " -e 109";
  }
  init += " " + opts.exec_command_line;
  if (debug) {
    init = "sh -c \"" + init + " & exec sh\"";
  }
  // The requested count, not the normalized one (v0.8.8 quirk).
  args += " nr_cpus=" + std::to_string(opts.common.processor_count);
  return args + " brd.rd_nr=0 pmtmr=0 -- " + init;
}

nlohmann::ordered_json lcow_document(const options_lcow& opts, int32_t processor_count,
                                     int32_t memory_mb) {
  compute_system doc = base_document(opts.common);
  virtual_machine& vm = *doc.virtual_machine;
  std::string kernel_path = join_host_path(opts.boot_files_path, opts.kernel_file);
  std::string rootfs_path = join_host_path(opts.boot_files_path, opts.root_fs_file);
  bool vhd_boot = opts.preferred_root_fs_type == preferred_rootfs_type::vhd;

  vm.chipset.emplace();
  if (opts.kernel_direct) {
    linux_kernel_direct direct;
    direct.kernel_file_path = kernel_path;
    direct.init_rd_path = vhd_boot ? "" : rootfs_path;
    direct.kernel_cmd_line = lcow_kernel_cmdline(opts);
    vm.chipset->linux_kernel_direct = direct;
  } else {
    uefi_boot_entry boot;
    boot.device_type = "VmbFs";
    boot.device_path = "\\" + opts.kernel_file;
    boot.optional_data = lcow_kernel_cmdline(opts);
    boot.vmb_fs_root_path = opts.boot_files_path;
    vm.chipset->uefi = uefi{};
    vm.chipset->uefi->boot_this = boot;
  }

  memory2 mem = base_memory(opts.common, memory_mb);
  mem.enable_cold_discard_hint = opts.enable_cold_discard_hint;
  vm.compute_topology = topology{mem, base_processor(opts.common, processor_count)};

  devices& dev = vm.devices.emplace();
  for (uint32_t c = 0; c < opts.scsi_controller_count; ++c) {
    dev.scsi[std::to_string(c)] = scsi{};
  }
  if (opts.vpmem_device_count > 0) {
    dev.virtual_pmem = virtual_pmem_controller{};
    dev.virtual_pmem->maximum_count = opts.vpmem_device_count;
    dev.virtual_pmem->maximum_size_bytes = opts.vpmem_size_bytes;
    if (vhd_boot) {
      // v0.8.8 means "Vhdx" for a .vhdx file but its extension test never
      // matches, so the format is always Vhd1.
      dev.virtual_pmem->devices["0"] = virtual_pmem_device{rootfs_path, true, "Vhd1"};
    }
  }
  dev.hv_socket = uvm_hv_socket();
  dev.plan9 = plan9{};
  if (!opts.console_pipe.empty()) {
    dev.com_ports["0"] = com_port{opts.console_pipe, false};
  }
  if (opts.enable_graphics_console) {
    dev.keyboard.emplace();
    dev.enhanced_mode_video.emplace();
    dev.video_monitor.emplace();
  }
  if (opts.use_guest_connection && !opts.common.external_guest_connection) {
    vm.guest_connection = guest_connection{true, true};
  }
  return to_json(doc);
}

nlohmann::ordered_json wcow_document(const options_wcow& opts, int32_t processor_count,
                                     int32_t memory_mb, const std::string& uvm_folder,
                                     const std::string& scratch_disk_path) {
  compute_system doc = base_document(opts.common);
  virtual_machine& vm = *doc.virtual_machine;

  uefi_boot_entry boot;
  boot.device_type = "VmbFs";
  boot.device_path = "\\EFI\\Microsoft\\Boot\\bootmgfw.efi";
  vm.chipset.emplace().uefi.emplace().boot_this = boot;

  memory2 mem = base_memory(opts.common, memory_mb);
  mem.enable_hot_hint = opts.common.allow_overcommit;
  vm.compute_topology = topology{mem, base_processor(opts.common, processor_count)};

  devices& dev = vm.devices.emplace();
  attachment& scratch = dev.scsi["0"].attachments["0"];
  scratch.type = "VirtualDisk";
  scratch.path = scratch_disk_path;
  dev.hv_socket = uvm_hv_socket();
  virtual_smb_share_options os_share;
  os_share.read_only = true;
  os_share.share_read = true;
  os_share.cache_io = true;
  os_share.take_backup_privilege = true;
  os_share.pseudo_oplocks = true;
  std::string files = join_host_path(join_host_path(uvm_folder, "UtilityVM"), "Files");
  dev.virtual_smb = virtual_smb{{virtual_smb_share{"os", files, {}, os_share}}, 1024};

  if (!opts.common.external_guest_connection) {
    vm.guest_connection = guest_connection{};
  }
  return to_json(doc);
}

result<std::string> merge_document(const nlohmann::ordered_json& document,
                                   const std::string& additional) {
  if (additional.empty()) {
    return gojson::go_dump(document);
  }
  auto fail = [&](const std::string& why) {
    return invalid("failed to merge additional JSON '" + additional + "': " + why);
  };
  if (std::string why = gojson::go_syntax_error(additional); !why.empty()) {
    return fail(why);
  }
  nlohmann::json add;
  try {
    add = nlohmann::json::parse(additional);
  } catch (const nlohmann::json::exception& e) {
    // Syntax is fine for Go; nlohmann still refuses invalid UTF-8, lone
    // surrogates and numbers beyond double range.
    return fail(e.what());
  }
  if (add.is_null()) {
    // v0.8.8 crashes on a literal null; treat it as nothing to merge.
    return gojson::go_dump(document);
  }
  if (!add.is_object()) {
    return fail(std::string("json: cannot unmarshal ") + go_kind(add) +
                " into Go value of type map[string]interface {}");
  }
  auto base = nlohmann::json::parse(gojson::go_dump(document));
  numbers_as_doubles(base);
  numbers_as_doubles(add);
  merge_into(add, base);
  // nlohmann::json keeps keys sorted, as Go writes a map.
  return gojson::go_dump(nlohmann::ordered_json(add));
}

result<create_plan> plan_lcow(options_lcow opts, const host_info& host, const host_fs& fs) {
  create_plan plan = begin_plan(opts.common, host, "linux");
  plan.scsi_controller_count = opts.scsi_controller_count;
  plan.vpmem_max_count = opts.vpmem_device_count;
  plan.vpmem_max_size_bytes = opts.vpmem_size_bytes;
  plan.vpmem_multi_mapping = !opts.vpmem_no_multi_mapping;

  std::string kernel_path = join_host_path(opts.boot_files_path, opts.kernel_file);
  if (!fs.exists(kernel_path)) {
    return invalid("kernel: '" + kernel_path + "' not found");
  }
  std::string rootfs_path = join_host_path(opts.boot_files_path, opts.root_fs_file);
  if (!fs.exists(rootfs_path)) {
    return invalid("boot file: '" + rootfs_path + "' not found");
  }
  if (opts.scsi_controller_count > max_scsi_controllers) {
    return invalid("SCSI controller count must be between 0 and " +
                   std::to_string(max_scsi_controllers));
  }
  if (opts.vpmem_device_count > max_vpmem_count) {
    return invalid("vpmem device count cannot be greater than " + std::to_string(max_vpmem_count));
  }
  if (opts.vpmem_device_count > 0 && opts.vpmem_size_bytes % 4096 != 0) {
    return invalid("opts.VPMemSizeBytes must be a multiple of 4096");
  }
  bool vhd_boot = opts.preferred_root_fs_type == preferred_rootfs_type::vhd;
  if (opts.vpmem_device_count == 0 && vhd_boot) {
    return invalid("PreferredRootFSTypeVHD requires at least one VPMem device");
  }
  if (opts.kernel_direct && host.os_build < kernel_direct_min_build) {
    return invalid("KernelDirectBoot is not support on builds older than " +
                   std::to_string(kernel_direct_min_build));
  }
  if (opts.enable_cold_discard_hint && host.os_build < cold_discard_min_build) {
    return invalid("EnableColdDiscardHint is not supported on builds older than " +
                   std::to_string(cold_discard_min_build));
  }

  if (vhd_boot) {
    plan.vpmem_slot0_key = opts.root_fs_file;
  }
  auto doc = merge_document(lcow_document(opts, plan.processor_count, plan.memory_size_in_mb),
                            opts.common.addition_hcs_document_json);
  if (!doc) {
    return doc.err();
  }
  plan.document = std::move(*doc);
  return plan;
}

result<create_plan> plan_wcow(options_wcow opts, const host_info& host, const host_fs& fs) {
  create_plan plan = begin_plan(opts.common, host, "windows");
  plan.scsi_controller_count = 1;

  if (opts.layer_folders.size() < 2) {
    return invalid("at least 2 LayerFolders must be supplied");
  }
  std::string uvm_folder;
  for (const auto& folder : opts.layer_folders) {
    if (fs.exists(join_host_path(folder, "UtilityVM"))) {
      uvm_folder = folder;
      break;
    }
  }
  if (uvm_folder.empty()) {
    return invalid("failed to locate utility VM folder from layer folders: utility VM folder "
                   "could not be found in layers");
  }
  const std::string& scratch_folder = opts.layer_folders.back();
  if (!fs.exists(scratch_folder)) {
    if (error err = fs.create_directories(scratch_folder)) {
      return error(err.code, "failed to create utility VM scratch folder: " + err.text);
    }
  }
  plan.scratch_disk_path = join_host_path(scratch_folder, "sandbox.vhdx");
  if (!fs.exists(plan.scratch_disk_path)) {
    // v0.8.8 then grants the VM access to the copy; there is no such ACL here.
    std::string tmpl =
        join_host_path(join_host_path(uvm_folder, "UtilityVM"), "SystemTemplate.vhdx");
    if (error err = fs.copy_file(tmpl, plan.scratch_disk_path)) {
      return error(err.code, "failed to create scratch: " + err.text);
    }
  }

  auto doc = merge_document(wcow_document(opts, plan.processor_count, plan.memory_size_in_mb,
                                          uvm_folder, plan.scratch_disk_path),
                            opts.common.addition_hcs_document_json);
  if (!doc) {
    return doc.err();
  }
  plan.document = std::move(*doc);
  return plan;
}

} // namespace uvm::hcs
