// Where the QEMU backend puts each device of a utility VM on the guest's
// PCI bus 0, so that our guest agent can find a device from the numbers of
// a guest request alone (controller and LUN, VPMEM device number, Plan9
// share name). Shared by hcs/qemu (host) and guest/ (inside the VM).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace uvm::qemu_layout {

// Slots 0 and 1 are the i440FX host bridge and the PIIX3.
constexpr uint32_t serial_slot = 0x02; // virtio-serial: the "gcs", "stdio" and "log" ports
constexpr uint32_t scsi_first_slot = 0x03;
constexpr uint32_t scsi_controllers = 4; // slots 0x03..0x06
constexpr uint32_t plan9_first_slot = 0x07;
constexpr uint32_t plan9_devices = 8; // slots 0x07..0x0e
constexpr uint32_t vpmem_first_slot = 0x0f;
constexpr uint32_t vpmem_devices = 16; // slots 0x0f..0x1e
// Network adapters sit behind a PCI bridge in the last slot, one slot each.
constexpr uint32_t nic_bridge_slot = 0x1f;
constexpr uint32_t nic_slots = 32;

// The names of the virtio-serial ports (/sys/class/virtio-ports/*/name).
constexpr const char* gcs_port_name = "gcs";
constexpr const char* stdio_port_name = "stdio";
constexpr const char* log_port_name = "log"; // the guest agent's log (guest/log.hpp)

constexpr uint32_t scsi_slot(uint32_t controller) {
  return scsi_first_slot + controller;
}
constexpr uint32_t plan9_slot(uint32_t index) {
  return plan9_first_slot + index;
}
constexpr uint32_t vpmem_slot(uint32_t device) {
  return vpmem_first_slot + device;
}

// "0000:00:05.0": the device's name under /sys/bus/pci/devices.
inline std::string pci_address(uint32_t slot) {
  char text[16];
  std::snprintf(text, sizeof text, "0000:00:%02x.0", slot);
  return text;
}

} // namespace uvm::qemu_layout
