// The QMP side of HCS modify requests for one QEMU VM: SCSI disks, VPMEM
// devices, Plan9 shares and network adapters (qemu_backend.hpp has the
// limits).
#include "hcs/qemu/qemu_vm.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <vector>

#include <unistd.h>

#include "gojson/go_json.hpp"
#include "hcs/host_path.hpp"
#include "hcs/schema.hpp"
#include "messages/qemu_pci_layout.hpp"

namespace uvm::hcs::qemu {

namespace {

constexpr uint32_t plan9_read_only = 0x1;

bool has_vhd_footer(const std::string& path, uint64_t size) {
  if (size < 512) {
    return false;
  }
  std::ifstream in{path, std::ios::binary};
  in.seekg(static_cast<std::streamoff>(size - 512));
  char cookie[8] = {};
  in.read(cookie, sizeof cookie);
  return in && std::string(cookie, sizeof cookie) == "conectix";
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

uint32_t index_of(const std::string& text, const char* what) {
  auto n = parse_index(text);
  if (!n) {
    reject(hr::invalid_arg, std::string{"bad "} + what + " \"" + text + "\" in ResourcePath");
  }
  return *n;
}

uint64_t offset_of(const std::string& text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    reject(hr::invalid_arg, "bad VPMEM mapping offset \"" + text + "\" in ResourcePath");
  }
  return n;
}

// The largest device that gets a pack: its struct pages cost the guest
// 1/64 of its size in memory.
constexpr uint64_t max_pack_bytes = 1ull << 30;

uint64_t round_up_2mib(uint64_t bytes) {
  constexpr uint64_t unit = 2 * 1024 * 1024;
  return (bytes + unit - 1) / unit * unit;
}

} // namespace

call_result qemu_vm::attach_scsi(const scsi_attachment& disk) {
  auto id = scsi_id(disk.controller, disk.lun);
  if (disk.controller >= plan.scsi_controllers) {
    return call_result::failure(hr::invalid_arg, "SCSI controller " +
                                                     std::to_string(disk.controller) +
                                                     " is not configured");
  }
  if (scsi.count(id) != 0) {
    return call_result::failure(hr::already_exists, "SCSI controller " +
                                                        std::to_string(disk.controller) + " LUN " +
                                                        std::to_string(disk.lun) + " is in use");
  }
  // QEMU opens the disk; a missing path or one of the wrong kind is
  // refused here with Go's text rather than QEMU's.
  auto need = block_driver(disk) == "host_device" ? host_path_need::block_device
                                                  : host_path_need::regular_file;
  if (auto file = check_host_path(disk.path, need); !file) {
    return call_result::failure(hr::invalid_arg, "SCSI disk: " + file.err().text);
  }
  auto r = qmp->execute("blockdev-add", scsi_blockdev(disk), config->qmp_timeout);
  if (!r) {
    return qmp_error("attach " + disk.path, r.err());
  }
  auto d = qmp->execute("device_add", scsi_device(disk), config->qmp_timeout);
  if (!d) {
    qmp->execute("blockdev-del", {{"node-name", id}}, config->qmp_timeout);
    return qmp_error("attach " + disk.path, d.err());
  }
  scsi.insert(id);
  return call_result::success();
}

call_result qemu_vm::detach_scsi(uint32_t controller, uint32_t lun) {
  auto id = scsi_id(controller, lun);
  if (scsi.count(id) == 0) {
    return call_result::failure(hr::element_not_found, "nothing is attached at SCSI controller " +
                                                           std::to_string(controller) + " LUN " +
                                                           std::to_string(lun));
  }
  auto r = unplug(id);
  if (!r.ok()) {
    return r;
  }
  scsi.erase(id);
  auto b = qmp->execute("blockdev-del", {{"node-name", id}}, config->qmp_timeout);
  return b ? call_result::success() : qmp_error("release " + id, b.err());
}

call_result qemu_vm::attach_vpmem(const vpmem_device& device, bool at_boot) {
  auto number = std::to_string(device.number);
  if (device.number >= qemu_layout::vpmem_devices) {
    return call_result::failure(hr::invalid_arg, "VPMEM device " + number +
                                                     ": the qemu backend has " +
                                                     std::to_string(qemu_layout::vpmem_devices) +
                                                     " VPMEM slots per VM (0 to 15)");
  }
  bool replug = false;
  if (auto it = vpmem.find(device.number); it != vpmem.end()) {
    if (vpmem_removed.count(device.number) == 0 || it->second != device.host_path) {
      return call_result::failure(
          hr::already_exists,
          "VPMEM device " + number + " still holds " + it->second +
              ": QEMU cannot unplug virtio-pmem devices, so a removed device keeps its slot "
              "(and file) until the VM stops");
    }
    replug = true;
  }
  auto image = check_host_path(device.host_path, host_path_need::regular_file);
  if (!image) {
    return call_result::failure(hr::invalid_arg, "VPMEM image: " + image.err().text);
  }
  auto size = image->size_bytes;
  std::string why;
  auto mapped = vpmem_mapped_size(size, has_vhd_footer(device.host_path, size), why);
  if (mapped == 0) {
    return call_result::failure(hr::invalid_arg,
                                "VPMEM image " + device.host_path + " cannot be mapped: " + why);
  }
  if (replug) {
    // Layers mapped since may cover offset 0: the image goes in again.
    if (auto pack = packs.find(device.number); pack != packs.end()) {
      pack->second.clear();
      if (auto e = pack->second.place(0, device.host_path, mapped)) {
        return call_result::failure(hr::fail, "VPMEM device " + number + ": " + e.text);
      }
    }
    vpmem_removed.erase(device.number);
    return call_result::success();
  }
  // A hot-added device is as large as the controller allows, so that layers
  // can be mapped into it later (vpmem_pack.hpp), unless that is too large
  // to copy and map; the root file system and those map their image.
  std::optional<vpmem_pack> pack;
  auto backing = device;
  uint64_t device_size = mapped;
  if (!at_boot && round_up_2mib(plan.vpmem_max_size_bytes) <= max_pack_bytes) {
    device_size = std::max(round_up_2mib(plan.vpmem_max_size_bytes), mapped);
    auto made =
        vpmem_pack::create(files.dir + "/" + vpmem_id(device.number) + ".pack", device_size);
    auto e = made ? made->place(0, device.host_path, mapped) : made.err();
    // A confined QEMU reads the pack as the VM's own uid.
    if (!e && confinement.confined() &&
        ::chown(made->file().c_str(), confinement.uid, confinement.group) != 0) {
      e = error{errc::io_failure, "chown " + made->file() + ": " + go_errno_text(errno)};
    }
    if (e) {
      return call_result::failure(hr::fail, "VPMEM device " + number + ": " + e.text);
    }
    backing.host_path = made->file();
    pack = std::move(*made);
  }
  // Read-only and never written by the guest, a private mapping stays on
  // the host's page cache, so layers copied in later show in the guest.
  auto r = qmp->execute("object-add", vpmem_backend(backing, device_size), config->qmp_timeout);
  if (!r) {
    return qmp_error("map " + device.host_path, r.err());
  }
  auto d = qmp->execute("device_add", vpmem_pci_device(device), config->qmp_timeout);
  if (!d) {
    qmp->execute("object-del", {{"id", vpmem_id(device.number) + "-mem"}}, config->qmp_timeout);
    return qmp_error("plug " + device.host_path, d.err());
  }
  vpmem[device.number] = device.host_path;
  if (pack) {
    packs.insert_or_assign(device.number, std::move(*pack));
  }
  return call_result::success();
}

call_result qemu_vm::map_vpmem(uint32_t number, uint64_t offset, const std::string& host_path) {
  auto where = "VPMEM device " + std::to_string(number) + " mapping at " + std::to_string(offset);
  if (vpmem.count(number) == 0 || vpmem_removed.count(number) != 0) {
    return call_result::failure(hr::invalid_arg, where + ": the device is not attached");
  }
  auto pack = packs.find(number);
  if (pack == packs.end()) {
    return call_result::failure(hr::not_impl,
                                where + ": the qemu backend maps layers into devices of at most " +
                                    std::to_string(max_pack_bytes >> 20) +
                                    " MiB (VPMemSizeBytes); this one maps its image alone");
  }
  if (offset % 4096 != 0) {
    return call_result::failure(hr::invalid_arg, where + ": the offset is not page-aligned");
  }
  auto image = check_host_path(host_path, host_path_need::regular_file);
  if (!image) {
    return call_result::failure(hr::invalid_arg, "VPMEM image: " + image.err().text);
  }
  if (auto e = pack->second.place(offset, host_path, image->size_bytes)) {
    return call_result::failure(hr::invalid_arg, where + ": " + e.text);
  }
  return call_result::success();
}

call_result qemu_vm::unmap_vpmem(uint32_t number, uint64_t offset) {
  auto pack = packs.find(number);
  if (pack == packs.end() || vpmem_removed.count(number) != 0 || !pack->second.forget(offset)) {
    return call_result::failure(hr::element_not_found, "nothing is mapped at VPMEM device " +
                                                           std::to_string(number) + " offset " +
                                                           std::to_string(offset));
  }
  return call_result::success();
}

call_result qemu_vm::detach_vpmem(uint32_t number) {
  if (vpmem.count(number) == 0 || vpmem_removed.count(number) != 0) {
    return call_result::failure(hr::element_not_found,
                                "VPMEM device " + std::to_string(number) + " is not attached");
  }
  // The guest has unmounted it; QEMU 7.2 cannot unplug it (see the header).
  vpmem_removed.insert(number);
  return call_result::success();
}

call_result qemu_vm::add_plan9(const nlohmann::json& settings) {
  auto name = string_member(settings, "Name");
  auto path = string_member(settings, "Path");
  auto flags = static_cast<uint32_t>(uint_member(settings, "Flags"));
  if (!plan.plan9) {
    return call_result::failure(hr::invalid_arg, "the document has no Plan9 device");
  }
  if (plan9->find(name)) {
    return call_result::failure(hr::already_exists, "Plan9 share " + name + " exists");
  }
  if (auto dir = check_host_path(path, host_path_need::directory); !dir) {
    return call_result::failure(hr::invalid_arg, "Plan9 share: " + dir.err().text);
  }
  auto index = plan9->bind(name, path, (flags & plan9_read_only) != 0,
                           strings_member(settings, "AllowedFiles"));
  if (!index) {
    return call_result::failure(hr::fail, index.err().text);
  }
  auto d = qmp->execute("device_add", plan9_device(*index, name), config->qmp_timeout);
  if (!d) {
    plan9->unbind(*index);
    return qmp_error("share " + path, d.err());
  }
  return call_result::success();
}

call_result qemu_vm::remove_plan9(const nlohmann::json& settings) {
  auto name = string_member(settings, "Name");
  auto index = plan9->find(name);
  if (!index) {
    return call_result::failure(hr::element_not_found, "Plan9 share " + name + " not found");
  }
  auto r = unplug(plan9_id(*index));
  if (!r.ok()) {
    return r;
  }
  plan9->unbind(*index);
  return call_result::success();
}

call_result qemu_vm::add_nic(const std::string& guid, const nlohmann::json& settings) {
  if (nics.count(guid) != 0) {
    return call_result::failure(hr::already_exists, "network adapter " + guid + " exists");
  }
  uint32_t slot = 0;
  while (slot < qemu_layout::nic_slots &&
         std::any_of(nics.begin(), nics.end(), [&](auto& n) { return n.second == slot; })) {
    ++slot;
  }
  if (slot == qemu_layout::nic_slots) {
    return call_result::failure(hr::fail, "all " + std::to_string(qemu_layout::nic_slots) +
                                              " network adapter slots of this VM are in use");
  }
  auto r = qmp->execute("netdev_add", nic_netdev(slot), config->qmp_timeout);
  if (!r) {
    return qmp_error("network adapter " + guid, r.err());
  }
  auto d = qmp->execute("device_add", nic_device(slot, string_member(settings, "MacAddress")),
                        config->qmp_timeout);
  if (!d) {
    qmp->execute("netdev_del", {{"id", nic_id(slot) + "-net"}}, config->qmp_timeout);
    return qmp_error("network adapter " + guid, d.err());
  }
  nics[guid] = slot;
  return call_result::success();
}

call_result qemu_vm::remove_nic(const std::string& guid) {
  auto it = nics.find(guid);
  if (it == nics.end()) {
    return call_result::failure(hr::element_not_found, "network adapter " + guid + " not found");
  }
  auto slot = it->second;
  auto r = unplug(nic_id(slot));
  if (!r.ok()) {
    return r;
  }
  nics.erase(it);
  auto n = qmp->execute("netdev_del", {{"id", nic_id(slot) + "-net"}}, config->qmp_timeout);
  return n ? call_result::success() : qmp_error("network adapter " + guid, n.err());
}

call_result qemu_vm::modify(const std::string& text) {
  check_alive("modify");
  auto request = parse_object(text, "request");
  auto path = string_member(request, "ResourcePath");
  auto type = string_member(request, "RequestType");
  const std::string topology_prefix = "VirtualMachine/ComputeTopology/";
  if (path.rfind(topology_prefix, 0) == 0) {
    return modify_topology(path.substr(topology_prefix.size()), request);
  }
  const auto* settings_ptr = object_member(request, "Settings");
  auto settings = settings_ptr ? *settings_ptr : nlohmann::json::object();
  bool add = equal_ci(type, "Add");
  if (!add && !equal_ci(type, "Remove")) {
    reject(hr::not_impl, "the qemu backend cannot " + type + " " + path);
  }
  auto parts = split_path(path);
  auto is = [&](size_t i, const char* word) { return i < parts.size() && parts[i] == word; };
  if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 6 && is(2, "Scsi") &&
      is(4, "Attachments")) {
    auto controller = index_of(parts[3], "SCSI controller");
    auto lun = index_of(parts[5], "LUN");
    if (!add) {
      return detach_scsi(controller, lun);
    }
    scsi_attachment disk{controller, lun, string_member(settings, "Path"),
                         string_member(settings, "Type"), bool_member(settings, "ReadOnly")};
    return attach_scsi(disk);
  }
  if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 7 && is(2, "VirtualPMem") &&
      is(3, "Devices") && is(5, "Mappings")) {
    auto number = index_of(parts[4], "VPMEM device");
    auto offset = offset_of(parts[6]);
    return add ? map_vpmem(number, offset, string_member(settings, "HostPath"))
               : unmap_vpmem(number, offset);
  }
  if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 5 && is(2, "VirtualPMem") &&
      is(3, "Devices")) {
    auto number = index_of(parts[4], "VPMEM device");
    if (!add) {
      return detach_vpmem(number);
    }
    return attach_vpmem({number, string_member(settings, "HostPath"),
                         !find_member(settings, "ReadOnly") || bool_member(settings, "ReadOnly")});
  }
  if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 4 &&
      is(2, "NetworkAdapters")) {
    return add ? add_nic(parts[3], settings) : remove_nic(parts[3]);
  }
  if (path == "VirtualMachine/Devices/Plan9/Shares") {
    return add ? add_plan9(settings) : remove_plan9(settings);
  }
  reject(hr::not_impl, "the qemu backend cannot modify " + path +
                           " (it supports SCSI, VPMEM, Plan9 and network adapters)");
}

} // namespace uvm::hcs::qemu
