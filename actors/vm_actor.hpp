// The utility VM actor: one per VM. It owns the lifecycle (vm_state.hpp),
// the HCS system, and the child actors that serve its devices and its guest
// (vm_children.hpp); every call on the VM passes through its mailbox, and
// it routes each device and guest call to the child that answers it
// (vm_routes.hpp). Callers that want one hop less may ask it for its
// children (devices_atom) and call them directly.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "actors/core/call_admission.hpp"
#include "actors/core/log_rate_limit.hpp"
#include "actors/internal_calls.hpp"
#include "bridge/frame_log.hpp"
#include "bridge/io_loop.hpp"
#include "bridge/sweep_timer.hpp"
#include "hcs/backend.hpp"
#include "hcs/create_plan.hpp"
#include "metrics/engine_metrics.hpp"

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
  supervisor_internal supervisor;
  registry_internal registry;
  std::shared_ptr<bridge::frame_log> bridge_log;
  // Serves every bridge connection (and the in-process agents).
  std::shared_ptr<bridge::io_loop> io;
  // Wakes bridges at their RPCs' deadlines (on `io`).
  std::shared_ptr<bridge::sweep_timer> rpc_sweeps;
  // Where the in-process agents' stdio relay folders go ($TMPDIR, read
  // once by the engine).
  std::string stdio_root = "/tmp";
  // The guest agent of LCOW VMs: "in-process" (default; processes
  // sandboxed), "in-process-unconfined", "exec:CMD", "unix:PATH", or "stub"
  // (no protocol; deterministic tests).
  std::string guest = "in-process";
  std::chrono::milliseconds bridge_rpc_timeout{std::chrono::minutes(5)};
  // Admission control: the calls one VM may have outstanding, and the
  // engine's count of every VM's (null: no engine-wide limit).
  uint32_t vm_call_limit = 1024;
  std::shared_ptr<engine_admission> admission;
  // How fast the guest may fill the log through the default output handler.
  logging::log_rate guest_log_rate;
  // The engine's metrics (engine_config::metrics); null: none kept.
  std::shared_ptr<metrics::engine_metrics> metrics;
};

// What a VM is created from; kept for re-creation after an exit.
struct vm_spec {
  bool lcow = true;
  options_lcow lcow_options;
  options_wcow wcow_options;
  restart_policy policy;
};

vm_actor spawn_vm_actor(caf::local_actor* parent, vm_env env, vm_spec spec);

} // namespace uvm
