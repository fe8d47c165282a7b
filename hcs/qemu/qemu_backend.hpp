// The HCS backend that runs real utility VMs: each compute system is a
// QEMU process (TCG) driven over QMP. Create launches QEMU paused and
// attaches the document's boot-time devices; Start resumes it; Modify
// translates SCSI, VPMEM (one file a device, or layers packed into one),
// Plan9 and network adapter requests into QMP hot-plug, and memory and
// processor count changes into virtio-mem and CPU hot-plug; Shutdown
// presses the ACPI power button (and quits QEMU when the guest does not
// power off in time); Terminate quits QEMU. QEMU ending when nobody asked
// for it (guest power-off, crash, kill) is an unexpected exit.
//
// Each VM's calls run in order on a thread of its own (QMP is one
// conversation), so completions and exit handlers never run inside the
// caller's call. Limits, each with its own error: VPMEM devices 0-15 and
// Plan9 shares up to 8 per VM (pci_layout.hpp); a removed VPMEM device
// stays plugged until the VM stops (QEMU 7.2 cannot unplug virtio-pmem),
// so its number can be added again only with the same file; no VSMB,
// VPCI or pipes (Windows-only or not modelled). Unless told to run it
// unconfined, QEMU runs as a uid of its own in a cgroup of its own, and
// VM access grants name that uid (hcs/vm_access.hpp).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hcs/backend.hpp"
#include "hcs/qemu/qemu_machine.hpp"
#include "hcs/vm_access.hpp"

namespace uvm::hcs::qemu {

struct backend_config {
  qemu_settings qemu;
  // Each VM's sockets, logs and Plan9 pool live in "<state_root>/<id>.<n>";
  // empty: "<temp>/uvm-qemu-<pid>".
  std::string state_root;
  std::chrono::milliseconds qmp_timeout{std::chrono::seconds(20)};
  // How long Shutdown waits for the guest to power off before quitting QEMU.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(10)};
  // How long a device removal waits for the guest to release the device.
  std::chrono::milliseconds unplug_timeout{std::chrono::seconds(10)};
  // Each QEMU runs as a uid of its own, the lowest of [uid_base, uid_base +
  // uid_count) no live VM has, with `vm_group` as its only group: the
  // principals of VMAccessType (Individual: the uid, Group: the group).
  uint32_t uid_base = 800000;
  uint32_t uid_count = 65536;
  uint32_t vm_group = 800000;
  // Each QEMU's cgroup is "<cgroup_root>/<id>.<n>"; empty: "uvm" in the
  // cgroup v2 hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
  // hybrid host). Not writable: QEMU stays in the engine's cgroup and its
  // log says why.
  std::string cgroup_root;
  // QEMU keeps root and the engine's cgroup; no grants are made (root
  // opens everything).
  bool unconfined_root = false;
};

struct qemu_vm;

class qemu_backend : public backend {
public:
  explicit qemu_backend(backend_config config = {});
  ~qemu_backend() override;

  void create(const std::string& id, std::string document, exit_handler on_exit,
              completion done) override;
  void start(const std::string& id, completion done) override;
  void modify(const std::string& id, std::string request, completion done) override;
  void shutdown(const std::string& id, completion done) override;
  void terminate(const std::string& id, completion done) override;
  void properties(const std::string& id, std::string query, completion done) override;
  void close(const std::string& id) override;
  std::string grant_vm_access(const std::string& id, const std::string& path, vm_access_type access,
                              bool read_only) override;
  std::string release_vm_access(const std::string& id, const std::string& path) override;
  // "qemu:<state_dir(id)>": the link opens gcs.sock and stdio.sock there.
  std::string guest_connection(const std::string& id) override;

  // The system's folder ("<state_root>/<id>.<n>"); empty when there is none.
  std::string state_dir(const std::string& id);
  // The QEMU process of a running VM (tests kill it); -1 when none.
  int pid_of(const std::string& id);
  // Who the VM's QEMU runs as (uid 0: unconfined); nullopt: no such VM.
  std::optional<vm_principal> principal_of(const std::string& id);
  const backend_config& config() const { return config_; }

private:
  std::shared_ptr<qemu_vm> find(const std::string& id);
  // Runs `job` on the VM's thread, or fails `done` when there is no VM.
  void post(const std::string& id, completion done, std::function<call_result(qemu_vm&)> job);

  backend_config config_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<qemu_vm>> machines_;
  // Closed VMs whose threads are finishing; joined by the destructor.
  std::vector<std::shared_ptr<qemu_vm>> closing_;
  uint64_t systems_ = 0;    // systems created, for their folders' names
  std::set<uint32_t> uids_; // of live VMs (until their QEMU is gone)
  vm_access_table grants_;
};

} // namespace uvm::hcs::qemu
