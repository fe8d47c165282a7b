// One utility VM of the QEMU backend (qemu_backend.hpp): its QEMU process,
// the QMP conversation with it, and what is plugged where. Every member
// function runs on the VM's worker thread (qemu_backend posts each call
// there): qemu_vm.cpp launches, stops and watches QEMU; qemu_hotplug.cpp
// turns modify requests into QMP hot-plug.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "hcs/backend.hpp"
#include "hcs/guid.hpp"
#include "hcs/hcs_json.hpp"
#include "hcs/qemu/plan9_pool.hpp"
#include "hcs/qemu/qemu_backend.hpp"
#include "hcs/qemu/qemu_process.hpp"
#include "hcs/qemu/qemu_topology.hpp"
#include "hcs/qemu/qmp_client.hpp"
#include "hcs/qemu/serial_worker.hpp"
#include "hcs/qemu/vpmem_pack.hpp"

namespace uvm::hcs::qemu {

inline call_result qmp_error(const std::string& what, const error& e) {
  return call_result::failure(hr::fail, what + ": " + e.text);
}

struct qemu_vm {
  std::string id;
  vm_files files;
  const backend_config* config = nullptr;
  exit_handler on_exit;
  std::string owner;
  std::string runtime_id = new_guid();
  machine_plan plan;
  std::unique_ptr<plan9_pool> plan9;
  qemu_process process;
  qemu_confinement confinement;
  std::string confinement_note; // why a part of the confinement is missing
  std::unique_ptr<qmp_client> qmp;
  bool launched = false;
  bool running = false;
  bool stop_requested = false;
  bool exited = false;
  bool closed = false;
  std::chrono::steady_clock::time_point started_at;
  std::set<std::string> scsi;            // attached "scsi<C>-<L>"
  std::map<uint32_t, std::string> vpmem; // plugged device -> host path
  std::set<uint32_t> vpmem_removed;      // plugged but released
  std::map<uint32_t, vpmem_pack> packs;  // the backing of each hot-added device
  std::map<std::string, uint32_t> nics;  // NIC GUID -> slot behind the bridge
  topology_plan topology;                // memory and processors at boot
  uint64_t memory_mb = 0;                // boot RAM + what virtio-mem holds
  std::set<uint32_t> added_cpus;         // numbers of hot-added processors
  serial_worker worker;                  // last: its jobs use the rest

  ~qemu_vm() { worker.stop(); }

  void check_alive(const char* op) const {
    if (!launched || exited) {
      reject(exited ? hr::invalid_state : hr::system_not_found,
             "cannot " + std::string{op} + " compute system " + id + ": it is stopped");
    }
  }

  call_result execute(const std::string& command, const nlohmann::json& args);

  // device_del, then the guest's release of the device.
  call_result unplug(const std::string& device_id);

  void launch();
  std::string document_for_launch;
  // The confined QEMU's folder becomes its uid's; its cgroup is made.
  void prepare_confinement();
  // Removes the VM's cgroup once QEMU is gone.
  void leave_cgroup();

  // Once per VM: QEMU ended (the QMP connection closed).
  void on_qemu_gone(const std::string& why);

  // Quits QEMU (it flushes its disks first), killing it when it hangs.
  // QEMU exits 0 after our quit; killed by a signal or gone before we
  // asked, it ended on its own, even if the caller (e.g. the engine after
  // losing the guest) asks for a stop now.
  void stop_qemu();

  call_result attach_scsi(const scsi_attachment& disk);

  call_result detach_scsi(uint32_t controller, uint32_t lun);

  // A boot device maps its image; a hot-added one a pack (vpmem_pack.hpp).
  call_result attach_vpmem(const vpmem_device& device, bool at_boot = false);

  call_result detach_vpmem(uint32_t number);

  // A layer packed into a hot-added device at `offset` (Mappings/<offset>).
  call_result map_vpmem(uint32_t number, uint64_t offset, const std::string& host_path);

  call_result unmap_vpmem(uint32_t number, uint64_t offset);

  call_result add_plan9(const nlohmann::json& settings);

  call_result remove_plan9(const nlohmann::json& settings);

  call_result add_nic(const std::string& guid, const nlohmann::json& settings);

  call_result remove_nic(const std::string& guid);

  // qemu_resize.cpp: VirtualMachine/ComputeTopology/<rest> (qemu_topology.hpp).
  call_result modify_topology(const std::string& rest, const nlohmann::json& request);

  call_result set_memory(uint64_t size_mb);

  call_result set_processor_count(uint32_t count);

  call_result unplug_cpu(const std::string& device_id);

  call_result modify(const std::string& text);

  std::string properties(const std::string& query);
};

} // namespace uvm::hcs::qemu
