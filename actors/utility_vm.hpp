// The utility VM actor: one per VM, the mailbox through which every call on
// that VM passes (SCSI calls may also go straight to the SCSI child it hands
// out, which follows its lifecycle). It owns the lifecycle, the HCS system
// handle and the child actors (SCSI, VPMEM, shares, GCS bridge).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "bridge/frame_log.hpp"
#include "hcs/backend.hpp"
#include "hcs/create_plan.hpp"
#include "messages/caf_types.hpp"

namespace uvm {

// What every VM actor of an engine shares.
struct vm_env {
  // The VM's HCS backend: the registry sets it from the options' backend
  // name, "sim" (the simulator, the default) or "qemu".
  std::shared_ptr<hcs::backend> backend;
  std::shared_ptr<hcs::backend> qemu;
  std::string default_backend = "sim";
  host_info host;
  hcs::host_fs fs;
  caf::group bus;
  supervisor_actor supervisor;
  registry_actor registry;
  std::shared_ptr<bridge::frame_log> bridge_log;
  // The guest agent of LCOW VMs: "in-process" (default; processes
  // sandboxed), "in-process-unconfined", "exec:CMD", "unix:PATH", or "stub"
  // (no protocol; deterministic tests).
  std::string guest = "in-process";
  std::chrono::milliseconds bridge_rpc_timeout{std::chrono::minutes(5)};
};

// What a VM is created from; kept for re-creation after an exit.
struct vm_spec {
  bool lcow = true;
  options_lcow lcow_options;
  options_wcow wcow_options;
  restart_policy policy;
};

utility_vm_actor spawn_utility_vm(caf::local_actor* parent, vm_env env, vm_spec spec);

} // namespace uvm
