// A handle on one utility VM (hcsshim's *UtilityVM), for the embedding API:
// every call on the VM in a blocking form and an asynchronous one, both
// through engine/call.hpp. Cheap to copy; valid while its engine lives.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "engine/blocking_call.hpp"
#include "engine/call.hpp"
#include "engine/dispatcher.hpp"
#include "engine/guest_handles.hpp"
#include "engine/resources.hpp"
#include "messages/caf/interfaces.hpp"
#include "messages/caf/registration.hpp"

namespace uvm {

class engine;

// A handle on one utility VM (hcsshim's *UtilityVM). Cheap to copy; valid
// while its engine lives.
class utility_vm {
public:
  using callback = std::function<void(const error&)>;
  // A caller's deadline for an asynchronous call; the default (the clock's
  // epoch) means none: the call waits engine::caller_wait().
  using deadline = call_deadline;

  utility_vm() = default;
  utility_vm(engine* eng, utility_vm_actor actor, vm_info info)
      : engine_(eng), actor_(std::move(actor)), info_(std::move(info)) {}

  // Fixed at create (ID(), OS(), IsOCI(), ProcessorCount()).
  const std::string& id() const { return info_.id; }
  const std::string& os() const { return info_.os; }
  const std::string& owner() const { return info_.owner; }
  bool is_oci() const { return info_.is_oci; }
  int32_t processor_count() const { return info_.processor_count; }
  const utility_vm_actor& actor() const { return actor_; }
  call_site site() const { return {engine_, caf::actor_cast<caf::actor>(actor_), info_.id}; }

  // Any call on the VM, described in engine/calls.hpp: blocking, or
  // asynchronous with `done` run on the engine's dispatcher and an
  // optional deadline (see request_by). Every named call below is one of
  // these, e.g. vm.call(calls::add_scsi{req}, done, due).
  template <class C>
  call_outcome_t<C> call(const C& c) const {
    return call_blocking(*this, c);
  }
  template <class C>
  void call(C c, std::function<void(call_outcome_t<C>)> done, deadline due = {}) const {
    call_async(*this, std::move(c), std::move(done), due);
  }

  // Blocking forms.
  error start(const std::string& activity = {});
  error wait();
  error terminate(const std::string& activity = {});
  error shutdown(const std::string& activity = {});
  error close(const std::string& activity = {});
  error exit_error();
  // Live resizing of a running VM (memory in bytes).
  error update_memory(uint64_t bytes, const std::string& activity = {});
  error update_cpu_limits(const cpu_limits& limits, const std::string& activity = {});
  result<vm_stats> stats(const std::string& activity = {});
  result<uint64_t> container_counter();
  result<uint64_t> uvm_mount_counter();
  result<vm_info> info();
  // The children's tables as JSON (the engine's view of its devices).
  result<std::string> device_view();

  // SCSI (uvm-api.md §7). A mount is released with its release() or
  // remove_scsi(host_path).
  result<resource::scsi_mount> add_scsi(const std::string& host_path, const std::string& uvm_path,
                                        bool read_only, vm_access_type vm_access,
                                        const std::string& activity = {});
  result<resource::scsi_mount> add_scsi_physical_disk(const std::string& host_path,
                                                      const std::string& uvm_path, bool read_only,
                                                      const std::string& activity = {});
  error remove_scsi(const std::string& host_path, const std::string& activity = {});
  result<std::string> get_scsi_uvm_path(const std::string& host_path);
  // The VM's children, for callers that send their device and guest calls
  // to them directly (one actor hop less per call). Only while the VM runs.
  result<vm_devices> devices();
  // The next `count` guest requests of this VM fail (fault injection for
  // the in-process guest).
  void guest_fail(uint32_t count);

  // VPMEM (§8, LCOW): the guest path /run/layers/p<N>; released with
  // remove_vpmem(host_path).
  result<std::string> add_vpmem(const std::string& host_path, const std::string& activity = {});
  error remove_vpmem(const std::string& host_path, const std::string& activity = {});

  // VSMB (§9, WCOW). A share is released with its release() or
  // remove_vsmb(share.host_path).
  result<resource::vsmb_share> add_vsmb(const std::string& host_path,
                                        const hcs::virtual_smb_share_options& options,
                                        const std::string& activity = {});
  error remove_vsmb(const std::string& host_path, const std::string& activity = {});
  result<std::string> get_vsmb_uvm_path(const std::string& host_path);

  // Plan9 (§10, LCOW), ref-counted per identical share.
  result<resource::plan9_share> add_plan9(const std::string& host_path, const std::string& uvm_path,
                                          bool read_only, bool restrict_access,
                                          const std::vector<std::string>& allowed_names,
                                          const std::string& activity = {});
  error remove_plan9(const plan9_share_handle& share, const std::string& activity = {});

  // Named pipes (§12); is_pipe and the container mapping need no VM.
  result<resource::pipe_mount> add_pipe(const std::string& host_path,
                                        const std::string& activity = {});
  error remove_pipe(const std::string& host_path, const std::string& activity = {});

  // Network namespaces and endpoints (§11).
  error add_net_ns(const std::string& id, const std::string& activity = {});
  error remove_net_ns(const std::string& id, const std::string& activity = {});
  error add_endpoints_to_ns(const std::string& id,
                            const std::vector<hcs::network_endpoint>& endpoints,
                            const std::string& activity = {});
  error remove_endpoints_from_ns(const std::string& id,
                                 const std::vector<hcs::network_endpoint>& endpoints,
                                 const std::string& activity = {});

  // VPCI (§13): the device's GUID (`id`), released with its release() or
  // remove_device(id).
  result<resource::vpci_device> assign_device(const hcs::virtual_pci_device& device,
                                              const std::string& activity = {});
  error remove_device(const std::string& id, const std::string& activity = {});

  // Combined layers (§13).
  error combine_layers_lcow(const std::vector<std::string>& layer_paths,
                            const std::string& scratch_path, const std::string& rootfs_path,
                            const std::string& activity = {});
  error combine_layers_wcow(const std::vector<hcs::layer>& layers,
                            const std::string& container_root_path,
                            const std::string& activity = {});
  error remove_combined_layers(const std::string& rootfs_path, const std::string& activity = {});

  // Containers and processes in the guest (§6), through the GCS bridge.
  // `parameters` is the ProcessParameters JSON object (see
  // process_parameters::to_json); its Create*Pipe members open stdio.
  result<guest_process> create_process(const std::string& parameters,
                                       const std::string& activity = {});
  result<guest_container> create_container(const std::string& id, const std::string& config,
                                           const std::string& activity = {});
  // The guest's stacks; empty when the guest cannot dump them.
  result<std::string> dump_stacks(const std::string& activity = {});
  error delete_container_state(const std::string& container_id, const std::string& activity = {});
  // Capabilities() and what follows from them (§15).
  result<guest_capabilities_info> capabilities();
  bool signal_process_supported();
  bool delete_container_state_supported();

  // Any call of the VM's public interface (messages/caf/interfaces.hpp),
  // e.g. request<scsi_mount>(add_scsi_atom_v, req): `T` is its reply,
  // caf::ok_atom for the calls that answer ok. The blocking form waits at
  // most engine::caller_wait(); the asynchronous form runs `done` on
  // the engine's dispatcher actor (a few µs: use it on hot paths). call()
  // above is the same with a description of the call instead of its
  // message.
  template <class T, class... Ts>
  result<T> request(Ts&&... xs) const {
    return call_value<T>(system(), actor_, call_timeout(), std::forward<Ts>(xs)...);
  }
  template <class T, class... Ts>
  void request_async(std::function<void(result<T>)> done, Ts&&... xs) const {
    dispatch(
        [actor = actor_, due = dispatcher::clock::now() + call_timeout(), done = std::move(done),
         msg = caf::make_message(std::forward<Ts>(xs)...)](caf::event_based_actor* self) mutable {
          static_cast<dispatcher*>(self)->request_until<T>(caf::actor_cast<caf::actor>(actor), due,
                                                           std::move(msg), std::move(done));
        });
  }

  // The same with the caller's deadline: once `due` passes, `done` gets
  // errc::deadline_exceeded ("deadline exceeded: add_scsi on utility VM
  // vm1") at once, and a success that comes later is released again (a
  // disk's reference given back, a share removed, a container's process
  // killed) or, where nothing undoes it (a VM started, a container
  // created), kept; engine::late_replies() counts both (late_undo.hpp).
  template <class T, class... Ts>
  void request_by(deadline due, std::function<void(result<T>)> done, Ts&&... xs) const {
    dispatch(
        [id = id(), actor = actor_, due, done = std::move(done),
         msg = caf::make_message(std::forward<Ts>(xs)...)](caf::event_based_actor* self) mutable {
          static_cast<dispatcher*>(self)->request_by<T>(id, caf::actor_cast<caf::actor>(actor), due,
                                                        std::move(msg), std::move(done));
        });
  }

  // Named asynchronous forms of the lifecycle and SCSI calls (call()
  // serves every call), each with an optional deadline.
  void start(callback done, const std::string& activity = {}, deadline due = {});
  void wait(callback done, deadline due = {});
  void terminate(callback done, const std::string& activity = {}, deadline due = {});
  void close(callback done, const std::string& activity = {}, deadline due = {});
  void add_scsi(scsi_add_request req, std::function<void(result<scsi_mount>)> done,
                deadline due = {});
  void remove_scsi(const std::string& host_path, callback done, const std::string& activity = {},
                   deadline due = {});

private:
  caf::actor_system& system() const;
  std::chrono::milliseconds call_timeout() const;
  void dispatch(std::function<void(caf::event_based_actor*)> job) const;

  engine* engine_ = nullptr;
  utility_vm_actor actor_;
  vm_info info_;
};

} // namespace uvm
