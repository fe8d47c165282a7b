// The QEMU command line of a utility VM, read from its hcsschema v2
// ComputeSystem document (hcs-schema.md §4): memory, processors, the SCSI
// controllers and VPMEM capacity at the fixed PCI slots of pci_layout.hpp,
// the Plan9 fsdev pool, the virtio-serial ports of the GCS and of stdio,
// kernel + initrd + kernel command line. Always TCG (notes/qemu.md: the
// host's KVM cannot run unmodified guests). Pure: no process is started.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::hcs::qemu {

struct qemu_settings {
  std::string binary = "qemu-system-x86_64";
  // qboot boots a vmlinux in a fraction of SeaBIOS's time; empty: QEMU's
  // default firmware.
  std::string firmware = "/usr/share/qemu/qboot.rom";
};

// Where one VM's sockets and files live: "<state_dir>/qmp.sock", ...
struct vm_files {
  std::string dir;
  std::string qmp_socket() const { return dir + "/qmp.sock"; }
  std::string gcs_socket() const { return dir + "/gcs.sock"; }
  std::string stdio_socket() const { return dir + "/stdio.sock"; }
  std::string log_socket() const { return dir + "/log.sock"; }
  std::string console_log() const { return dir + "/console.log"; }
  std::string plan9_dir(uint32_t index) const { return dir + "/9p/" + std::to_string(index); }
};

// A disk attached at boot or later: the QMP blockdev driver follows the
// file's extension (.vhd is QEMU's "vpc", .vhdx "vhdx", anything else raw).
struct scsi_attachment {
  uint32_t controller = 0;
  uint32_t lun = 0;
  std::string path;
  std::string type = "VirtualDisk"; // or "PassThru" (a host block device)
  bool read_only = false;
};

struct vpmem_device {
  uint32_t number = 0;
  std::string host_path;
  bool read_only = true;
};

struct machine_plan {
  std::vector<std::string> argv;
  uint32_t scsi_controllers = 0;
  uint32_t vpmem_max_count = 0;
  uint64_t vpmem_max_size_bytes = 0;
  bool plan9 = false;
  std::vector<scsi_attachment> boot_disks;
  std::vector<vpmem_device> boot_vpmem;
};

// Reads the document (HCS's reading rules: case-insensitive names) and
// builds the command line. Throws sim::rejection with an HRESULT and a
// message for what QEMU cannot run: a WCOW document, a UEFI boot, more
// SCSI controllers than pci_layout has slots.
machine_plan plan_machine(const std::string& document, const qemu_settings& settings,
                          const vm_files& files);

// The document's kernel command line made to boot on QEMU's PC machine:
// `pci=off` and `8250_core.nr_uarts=0` (Hyper-V's) are dropped, and so is
// `nr_cpus=` (it would cap hot-added processors); a serial console, TCG
// boot-time savers, memory hot-plug onlining (for virtio-mem) and
// `panic=-1` (when absent) are added.
std::string qemu_kernel_command_line(const std::string& document_command_line);

// "vpc", "vhdx", "host_device" (PassThru) or "raw".
std::string block_driver(const scsi_attachment& disk);

// The QMP steps of attaching a disk: blockdev-add's arguments and
// device_add's. Ids are "scsi<C>-<L>", so a slot names its QEMU objects.
nlohmann::json scsi_blockdev(const scsi_attachment& disk);
nlohmann::json scsi_device(const scsi_attachment& disk);
std::string scsi_id(uint32_t controller, uint32_t lun);

// object-add of the memory backend and device_add of the virtio-pmem
// device; `size` is the mapped length (a multiple of 2 MiB).
nlohmann::json vpmem_backend(const vpmem_device& device, uint64_t size);
nlohmann::json vpmem_pci_device(const vpmem_device& device);
std::string vpmem_id(uint32_t number);

// How much of a VPMEM image QEMU maps: the whole file when it is a
// multiple of 2 MiB, the data part of a fixed VHD (a 2 MiB multiple plus
// its 512-byte footer); 0 with `why` set otherwise.
uint64_t vpmem_mapped_size(uint64_t file_size, bool has_vhd_footer, std::string& why);

// netdev_add (QEMU's user-mode network) and device_add of a virtio-net NIC
// in slot `slot` behind the NIC bridge; `mac` as HCS writes it
// ("00-15-5D-..." or with colons).
nlohmann::json nic_netdev(uint32_t slot);
nlohmann::json nic_device(uint32_t slot, const std::string& mac);
std::string nic_id(uint32_t slot);

// device_add of a Plan9 share's virtio-9p device on pool entry `index`.
nlohmann::json plan9_device(uint32_t index, const std::string& tag);
std::string plan9_id(uint32_t index);

} // namespace uvm::hcs::qemu
