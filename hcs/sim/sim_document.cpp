#include "hcs/sim/sim_document.hpp"

#include <algorithm>
#include <cctype>

#include "hcs/backend.hpp"
#include "hcs/hcs_json.hpp"
#include "hcs/sim/sim_settings.hpp"

namespace uvm::hcs::sim {

namespace {

constexpr uint32_t scsi_luns_per_controller = 64;

const nlohmann::json& expect_object(const nlohmann::json& value, const std::string& what) {
  if (!value.is_object()) {
    reject(hr::invalid_json, what + " is not an object");
  }
  return value;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// HCS reports the guest OS from the boot entry: a Linux kernel booted
// directly or through UEFI, or the Windows boot manager.
std::string runtime_os(const nlohmann::json* chipset) {
  if (chipset == nullptr) {
    return {};
  }
  if (object_member(*chipset, "LinuxKernelDirect") != nullptr) {
    return "linux";
  }
  const auto* uefi = object_member(*chipset, "Uefi");
  const auto* boot = uefi != nullptr ? object_member(*uefi, "BootThis") : nullptr;
  if (boot == nullptr) {
    return {};
  }
  auto path = lower(string_member(*boot, "DevicePath"));
  if (path.find("bootmgfw") != std::string::npos) {
    return "windows";
  }
  const std::string kernel = "\\kernel";
  bool kernel_suffix = path.size() >= kernel.size() &&
                       path.compare(path.size() - kernel.size(), kernel.size(), kernel) == 0;
  if (kernel_suffix || path.find("vmlinux") != std::string::npos) {
    return "linux";
  }
  return {};
}

void read_topology(const nlohmann::json& vm, sim_system& system) {
  const auto* topology = object_member(vm, "ComputeTopology");
  if (topology == nullptr) {
    return;
  }
  if (const auto* memory = object_member(*topology, "Memory")) {
    if (auto size = uint_member(*memory, "SizeInMB"); size > 0) {
      system.memory_mb = size;
    }
  }
  if (const auto* processor = object_member(*topology, "Processor")) {
    if (auto count = uint_member(*processor, "Count"); count > 0) {
      system.processor_count = static_cast<uint32_t>(std::min<uint64_t>(count, UINT32_MAX));
    }
    system.processor_limits.limit = uint_member(*processor, "Limit");
    system.processor_limits.weight = uint_member(*processor, "Weight");
  }
}

void read_scsi(const nlohmann::json& devices, sim_devices& out) {
  const auto* scsi = object_member(devices, "Scsi");
  if (scsi == nullptr) {
    return;
  }
  for (const auto& [controller, value] : scsi->items()) {
    auto& luns = out.scsi[controller];
    const auto* attachments =
        object_member(expect_object(value, "SCSI controller " + controller), "Attachments");
    if (attachments == nullptr) {
      continue;
    }
    for (const auto& [key, attachment] : attachments->items()) {
      auto where = "SCSI " + controller + ":" + key;
      auto lun = parse_index(key);
      if (!lun || *lun >= scsi_luns_per_controller) {
        reject(hr::invalid_arg, where + ": LUN must be 0-63");
      }
      luns[*lun] = parse_attachment(expect_object(attachment, where), where);
    }
  }
}

void read_vpmem(const nlohmann::json& devices, sim_devices& out) {
  const auto* vpmem = object_member(devices, "VirtualPMem");
  if (vpmem == nullptr) {
    return;
  }
  out.vpmem_maximum_count =
      static_cast<uint32_t>(std::min<uint64_t>(uint_member(*vpmem, "MaximumCount"), UINT32_MAX));
  out.vpmem_maximum_size_bytes = uint_member(*vpmem, "MaximumSizeBytes");
  const auto* initial = object_member(*vpmem, "Devices");
  if (initial == nullptr) {
    return;
  }
  for (const auto& [key, device] : initial->items()) {
    auto where = "VPMEM device " + key;
    auto number = parse_index(key);
    if (!number || *number >= out.vpmem_maximum_count) {
      reject(hr::invalid_arg,
             where + " is beyond MaximumCount " + std::to_string(out.vpmem_maximum_count));
    }
    out.vpmem[*number] = parse_vpmem_device(expect_object(device, where), where);
  }
}

template <class Table, class Parse>
void read_shares(const nlohmann::json& devices, const char* member, const char* kind, Table& out,
                 Parse parse) {
  const auto* container = object_member(devices, member);
  if (container == nullptr) {
    return;
  }
  for (const auto& item : array_member(*container, "Shares")) {
    auto [name, share] = parse(expect_object(item, std::string(kind) + " share"));
    if (!out.emplace(name, std::move(share)).second) {
      reject(hr::invalid_arg, std::string(kind) + " share " + name + " is declared twice");
    }
  }
}

void read_keyed(const nlohmann::json& devices, sim_devices& out) {
  if (const auto* adapters = object_member(devices, "NetworkAdapters")) {
    for (const auto& [id, adapter] : adapters->items()) {
      out.network_adapters[id] =
          parse_network_adapter(expect_object(adapter, "network adapter " + id));
    }
  }
  if (const auto* vpci = object_member(devices, "VirtualPci")) {
    for (const auto& [id, device] : vpci->items()) {
      out.vpci[id] = parse_vpci_device(expect_object(device, "VPCI device " + id));
    }
  }
}

} // namespace

sim_system parse_document(const std::string& text) {
  auto document = parse_object(text, "document");
  sim_system system;
  system.owner = string_member(document, "Owner");
  const auto* vm = object_member(document, "VirtualMachine");
  if (vm == nullptr) {
    reject(hr::invalid_arg, "the document has no VirtualMachine (only utility VMs are simulated)");
  }
  system.runtime_os = runtime_os(object_member(*vm, "Chipset"));
  read_topology(*vm, system);
  if (const auto* devices = object_member(*vm, "Devices")) {
    read_scsi(*devices, system.devices);
    read_vpmem(*devices, system.devices);
    read_shares(*devices, "VirtualSmb", "VSMB", system.devices.vsmb,
                parse_vsmb_share<nlohmann::json>);
    read_shares(*devices, "Plan9", "Plan9", system.devices.plan9,
                parse_plan9_share<nlohmann::json>);
    read_keyed(*devices, system.devices);
  }
  return system;
}

} // namespace uvm::hcs::sim
