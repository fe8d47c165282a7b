#include "hcs/qemu/qemu_machine.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "hcs/backend.hpp"
#include "hcs/hcs_json.hpp"
#include "hcs/qemu/qemu_topology.hpp"
#include "messages/qemu_pci_layout.hpp"

namespace uvm::hcs::qemu {

namespace {

constexpr uint64_t mib = 1024 * 1024;
constexpr uint64_t pmem_alignment = 2 * mib;

std::string hex_slot(uint32_t slot) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%x", slot);
  return text;
}

bool ends_with_ci(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         equal_ci(std::string_view{s}.substr(s.size() - suffix.size()), suffix);
}

// QEMU's option syntax doubles a comma inside a value.
std::string option_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') {
      out += ',';
    }
  }
  return out;
}

void add(std::vector<std::string>& argv, const std::string& option, const std::string& value) {
  argv.push_back(option);
  argv.push_back(value);
}

scsi_attachment read_attachment(uint32_t controller, uint32_t lun, const nlohmann::json& a) {
  scsi_attachment disk;
  disk.controller = controller;
  disk.lun = lun;
  disk.path = string_member(a, "Path");
  disk.type = string_member(a, "Type");
  disk.read_only = bool_member(a, "ReadOnly");
  return disk;
}

} // namespace

std::string qemu_kernel_command_line(const std::string& document_command_line) {
  // Up to "--" the words are the kernel's; after it, init's (hcsshim passes
  // vsockexec and gcs flags there, which our /init ignores). hcsshim's
  // nr_cpus= would keep the kernel from using hot-added processors: QEMU's
  // ACPI tables already say how many there can be.
  std::istringstream in{document_command_line};
  std::string word, kernel, init;
  bool init_part = false;
  while (in >> word) {
    if (word == "--") {
      init_part = true;
      continue;
    }
    if (init_part) {
      init += " " + word;
    } else if (word != "pci=off" && word.rfind("8250_core.nr_uarts=", 0) != 0 &&
               word.rfind("console=", 0) != 0 && word.rfind("nr_cpus=", 0) != 0) {
      kernel += " " + word;
    }
  }
  // A guest that panics must end its VM (with -no-reboot QEMU exits), not
  // leave the host waiting for an agent that never answers.
  if (kernel.find(" panic=") == std::string::npos) {
    kernel += " panic=-1";
  }
  kernel += " console=ttyS0 8250.nr_uarts=1 mitigations=off cryptomgr.notests i8042.noaux"
            " i8042.nokbd i8042.nopnp no_timer_check tsc=reliable";
  // Memory that virtio-mem adds comes online at once, in the movable zone
  // while the kernel's own memory allows, so that it can be removed again.
  kernel += " memhp_default_state=online memory_hotplug.online_policy=auto-movable";
  auto out = kernel.substr(1);
  if (!init.empty()) {
    out += " --" + init;
  }
  return out;
}

machine_plan plan_machine(const std::string& document, const qemu_settings& settings,
                          const vm_files& files) {
  auto doc = parse_object(document, "document");
  const auto* vm = object_member(doc, "VirtualMachine");
  if (vm == nullptr) {
    reject(hr::invalid_arg, "the qemu backend runs virtual machines: the document has no "
                            "VirtualMachine");
  }
  const auto* chipset = object_member(*vm, "Chipset");
  const auto* direct = chipset ? object_member(*chipset, "LinuxKernelDirect") : nullptr;
  if (direct == nullptr) {
    reject(hr::not_impl,
           chipset && object_member(*chipset, "Uefi")
               ? "the qemu backend boots Linux kernels directly: a UEFI boot (WCOW, or LCOW "
                 "without KernelDirect) is not supported"
               : "the qemu backend needs VirtualMachine.Chipset.LinuxKernelDirect");
  }
  auto kernel = string_member(*direct, "KernelFilePath");
  auto initrd = string_member(*direct, "InitRdPath");
  if (kernel.empty()) {
    reject(hr::invalid_arg, "LinuxKernelDirect.KernelFilePath is empty");
  }

  auto topology = read_topology(*vm);

  machine_plan plan;
  const auto* devices = object_member(*vm, "Devices");
  if (devices != nullptr) {
    if (const auto* scsi = object_member(*devices, "Scsi")) {
      for (const auto& [key, controller] : scsi->items()) {
        auto index = parse_index(key);
        if (!index || *index >= qemu_layout::scsi_controllers) {
          reject(hr::invalid_arg, "SCSI controller \"" + key + "\": the qemu backend has " +
                                      std::to_string(qemu_layout::scsi_controllers) +
                                      " controller slots, named 0 to 3");
        }
        plan.scsi_controllers = std::max(plan.scsi_controllers, *index + 1);
        if (!controller.is_object()) {
          continue;
        }
        if (const auto* attachments = object_member(controller, "Attachments")) {
          for (const auto& [lun_key, a] : attachments->items()) {
            auto lun = parse_index(lun_key);
            if (!lun || *lun > 63 || !a.is_object()) {
              reject(hr::invalid_arg, "bad SCSI attachment \"" + lun_key + "\"");
            }
            plan.boot_disks.push_back(read_attachment(*index, *lun, a));
          }
        }
      }
    }
    if (const auto* pmem = object_member(*devices, "VirtualPMem")) {
      plan.vpmem_max_count = static_cast<uint32_t>(uint_member(*pmem, "MaximumCount"));
      plan.vpmem_max_size_bytes = uint_member(*pmem, "MaximumSizeBytes");
      if (const auto* boot = object_member(*pmem, "Devices")) {
        for (const auto& [key, d] : boot->items()) {
          auto number = parse_index(key);
          if (!number || !d.is_object()) {
            reject(hr::invalid_arg, "bad VirtualPMem device \"" + key + "\"");
          }
          plan.boot_vpmem.push_back({*number, string_member(d, "HostPath"),
                                     !find_member(d, "ReadOnly") || bool_member(d, "ReadOnly")});
        }
      }
    }
    plan.plan9 = find_member(*devices, "Plan9") != nullptr;
  }

  auto& argv = plan.argv;
  argv = {settings.binary,   "-accel",   "tcg",  "-machine",   "pc", "-nodefaults",
          "-no-user-config", "-display", "none", "-no-reboot", "-S"};
  if (!settings.firmware.empty()) {
    add(argv, "-bios", settings.firmware);
  }
  // The QMP socket comes first and waits for the backend: every other
  // socket exists once the backend has its greeting.
  add(argv, "-chardev",
      "socket,id=qmp,path=" + option_value(files.qmp_socket()) + ",server=on,wait=on");
  add(argv, "-mon", "chardev=qmp,mode=control");
  uint64_t vpmem_mb = 0;
  if (plan.vpmem_max_count > 0) {
    // virtio-pmem devices live in the device-memory region above RAM.
    uint64_t count = std::min(plan.vpmem_max_count, qemu_layout::vpmem_devices);
    vpmem_mb = count * ((std::max(plan.vpmem_max_size_bytes, pmem_alignment) + mib - 1) / mib);
  }
  for (auto& arg : topology_argv(topology, vpmem_mb)) {
    argv.push_back(std::move(arg));
  }
  add(argv, "-serial", "file:" + option_value(files.console_log()));
  // Bus 0 has no free slot: virtio-mem is the serial slot's function 1.
  add(argv, "-device",
      "virtio-serial-pci,id=serial0,multifunction=on,addr=" + hex_slot(qemu_layout::serial_slot));
  const std::pair<const char*, std::string> ports[] = {
      {qemu_layout::gcs_port_name, files.gcs_socket()},
      {qemu_layout::stdio_port_name, files.stdio_socket()},
      {qemu_layout::log_port_name, files.log_socket()}};
  for (const auto& [port, path] : ports) {
    add(argv, "-chardev",
        std::string{"socket,id="} + port + ",path=" + option_value(path) + ",server=on,wait=off");
    add(argv, "-device",
        std::string{"virtserialport,bus=serial0.0,chardev="} + port + ",name=" + port);
  }
  for (uint32_t c = 0; c < plan.scsi_controllers; ++c) {
    add(argv, "-device",
        "virtio-scsi-pci,id=scsi" + std::to_string(c) +
            ",addr=" + hex_slot(qemu_layout::scsi_slot(c)));
  }
  add(argv, "-device",
      "pci-bridge,id=nics,chassis_nr=1,addr=" + hex_slot(qemu_layout::nic_bridge_slot));
  if (plan.plan9) {
    // QEMU cannot create an fsdev at run time: a pool is declared now and a
    // share is bind-mounted onto a free entry's folder when it is added.
    for (uint32_t i = 0; i < qemu_layout::plan9_devices; ++i) {
      add(argv, "-fsdev",
          "local,id=fs" + std::to_string(i) + ",path=" + option_value(files.plan9_dir(i)) +
              ",security_model=none");
    }
  }
  for (auto& arg : virtio_mem_argv(topology, hex_slot(qemu_layout::serial_slot) + ".0x1")) {
    argv.push_back(std::move(arg));
  }
  add(argv, "-kernel", kernel);
  if (!initrd.empty()) {
    add(argv, "-initrd", initrd);
  }
  add(argv, "-append", qemu_kernel_command_line(string_member(*direct, "KernelCmdLine")));
  return plan;
}

std::string block_driver(const scsi_attachment& disk) {
  if (equal_ci(disk.type, "PassThru")) {
    return "host_device";
  }
  if (ends_with_ci(disk.path, ".vhd")) {
    return "vpc";
  }
  if (ends_with_ci(disk.path, ".vhdx")) {
    return "vhdx";
  }
  return "raw";
}

std::string scsi_id(uint32_t controller, uint32_t lun) {
  return "scsi" + std::to_string(controller) + "-" + std::to_string(lun);
}

nlohmann::json scsi_blockdev(const scsi_attachment& disk) {
  auto driver = block_driver(disk);
  nlohmann::json file = {{"driver", driver == "host_device" ? "host_device" : "file"},
                         {"filename", disk.path}};
  nlohmann::json args = {{"node-name", scsi_id(disk.controller, disk.lun)},
                         {"read-only", disk.read_only}};
  if (driver == "host_device") {
    args["driver"] = "raw";
  } else {
    args["driver"] = driver;
  }
  args["file"] = file;
  return args;
}

nlohmann::json scsi_device(const scsi_attachment& disk) {
  auto id = scsi_id(disk.controller, disk.lun);
  return {{"driver", "scsi-hd"}, {"id", id},
          {"drive", id},         {"bus", "scsi" + std::to_string(disk.controller) + ".0"},
          {"scsi-id", 0},        {"lun", disk.lun}};
}

std::string vpmem_id(uint32_t number) {
  return "pmem" + std::to_string(number);
}

nlohmann::json vpmem_backend(const vpmem_device& device, uint64_t size) {
  return {{"qom-type", "memory-backend-file"},
          {"id", vpmem_id(device.number) + "-mem"},
          {"mem-path", device.host_path},
          {"size", size},
          {"share", false},
          {"readonly", device.read_only}};
}

nlohmann::json vpmem_pci_device(const vpmem_device& device) {
  return {{"driver", "virtio-pmem-pci"},
          {"id", vpmem_id(device.number)},
          {"memdev", vpmem_id(device.number) + "-mem"},
          {"addr", hex_slot(qemu_layout::vpmem_slot(device.number))}};
}

uint64_t vpmem_mapped_size(uint64_t file_size, bool has_vhd_footer, std::string& why) {
  constexpr uint64_t footer = 512;
  if (file_size == 0) {
    why = "the image is empty";
    return 0;
  }
  if (file_size % pmem_alignment == 0) {
    return file_size;
  }
  if (has_vhd_footer && file_size > footer && (file_size - footer) % pmem_alignment == 0) {
    return file_size - footer;
  }
  why = "its size " + std::to_string(file_size) +
        " is not a multiple of 2 MiB, which QEMU's virtio-pmem needs (pad it, e.g. truncate -s " +
        std::to_string((file_size + pmem_alignment - 1) / pmem_alignment * pmem_alignment) +
        ", or attach it with add_scsi)";
  return 0;
}

std::string nic_id(uint32_t slot) {
  return "nic" + std::to_string(slot);
}

nlohmann::json nic_netdev(uint32_t slot) {
  return {{"type", "user"}, {"id", nic_id(slot) + "-net"}};
}

nlohmann::json nic_device(uint32_t slot, const std::string& mac) {
  std::string colons = mac;
  std::replace(colons.begin(), colons.end(), '-', ':');
  return {{"driver", "virtio-net-pci"},
          {"id", nic_id(slot)},
          {"netdev", nic_id(slot) + "-net"},
          {"mac", colons},
          {"bus", "nics"},
          {"addr", hex_slot(slot)}};
}

std::string plan9_id(uint32_t index) {
  return "p9-" + std::to_string(index);
}

nlohmann::json plan9_device(uint32_t index, const std::string& tag) {
  return {{"driver", "virtio-9p-pci"},
          {"id", plan9_id(index)},
          {"fsdev", "fs" + std::to_string(index)},
          {"mount_tag", tag},
          {"addr", hex_slot(qemu_layout::plan9_slot(index))}};
}

} // namespace uvm::hcs::qemu
