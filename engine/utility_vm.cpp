#include "engine/utility_vm.hpp"

#include "engine/engine.hpp"

namespace uvm {

caf::actor_system& utility_vm::system() const {
  return engine_->system();
}

std::chrono::milliseconds utility_vm::call_timeout() const {
  return engine_->caller_wait();
}

void utility_vm::dispatch(std::function<void(caf::event_based_actor*)> job) const {
  engine_->dispatch(std::move(job));
}

error utility_vm::start(const std::string& activity) {
  return call_ok(start_atom_v, activity);
}

// Wait has no deadline: a VM may run for as long as it likes.
error utility_vm::wait() {
  auto r = call_value<caf::ok_atom>(system(), actor_, std::chrono::milliseconds{0}, wait_atom_v);
  return r ? error{} : r.err();
}

error utility_vm::terminate(const std::string& activity) {
  return call_ok(terminate_atom_v, activity);
}

error utility_vm::shutdown(const std::string& activity) {
  return call_ok(shutdown_atom_v, activity);
}

error utility_vm::close(const std::string& activity) {
  auto e = call_ok(close_atom_v, activity);
  // Close is idempotent: a VM whose actor already ended is closed.
  if (e.code == errc::closed) {
    return {};
  }
  return e;
}

error utility_vm::exit_error() {
  return call_ok(exit_err_atom_v);
}

result<vm_stats> utility_vm::stats(const std::string& activity) {
  return request<vm_stats>(stats_atom_v, activity);
}

result<uint64_t> utility_vm::container_counter() {
  return request<uint64_t>(counter_atom_v, counter_kind::container);
}

result<uint64_t> utility_vm::uvm_mount_counter() {
  return request<uint64_t>(counter_atom_v, counter_kind::uvm_mount);
}

result<guest_process> utility_vm::create_process(const std::string& parameters,
                                                 const std::string& activity) {
  return start_guest_process(system(), actor_, call_timeout(),
                             process_request{{}, parameters, activity});
}

result<guest_container> utility_vm::create_container(const std::string& id,
                                                     const std::string& config,
                                                     const std::string& activity) {
  if (auto e = call_ok(create_container_atom_v, id, config, activity)) {
    return e;
  }
  return guest_container{&system(), actor_, id, call_timeout()};
}

result<std::string> utility_vm::dump_stacks(const std::string& activity) {
  return request<std::string>(dump_stacks_atom_v, activity);
}

error utility_vm::delete_container_state(const std::string& container_id,
                                         const std::string& activity) {
  return call_ok(delete_state_atom_v, container_id, activity);
}

result<guest_capabilities_info> utility_vm::capabilities() {
  return request<guest_capabilities_info>(capabilities_atom_v);
}

bool utility_vm::signal_process_supported() {
  auto caps = capabilities();
  return caps && caps->signal_process_supported;
}

bool utility_vm::delete_container_state_supported() {
  auto caps = capabilities();
  return caps && caps->delete_container_state_supported;
}

result<vm_info> utility_vm::info() {
  return request<vm_info>(info_atom_v);
}

result<std::string> utility_vm::device_view() {
  return request<std::string>(view_atom_v);
}

result<scsi_mount> utility_vm::add_scsi(const std::string& host_path, const std::string& uvm_path,
                                        bool read_only, vm_access_type vm_access,
                                        const std::string& activity) {
  scsi_add_request req{host_path, uvm_path, read_only, vm_access, false, activity};
  return request<scsi_mount>(add_scsi_atom_v, std::move(req));
}

// AddSCSIPhysicalDisk always grants the VM individual access.
result<scsi_mount> utility_vm::add_scsi_physical_disk(const std::string& host_path,
                                                      const std::string& uvm_path, bool read_only,
                                                      const std::string& activity) {
  scsi_add_request req{host_path, uvm_path, read_only, vm_access_type::individual, true, activity};
  return request<scsi_mount>(add_scsi_atom_v, std::move(req));
}

error utility_vm::remove_scsi(const std::string& host_path, const std::string& activity) {
  return call_ok(remove_scsi_atom_v, host_path, activity);
}

result<vm_devices> utility_vm::devices() {
  return request<vm_devices>(devices_atom_v);
}

result<std::string> utility_vm::get_scsi_uvm_path(const std::string& host_path) {
  return request<std::string>(scsi_path_atom_v, host_path);
}

void utility_vm::guest_fail(uint32_t count) {
  caf::anon_send(actor_, guest_fail_atom_v, count);
}

result<std::string> utility_vm::add_vpmem(const std::string& host_path,
                                          const std::string& activity) {
  return request<std::string>(add_vpmem_atom_v, host_path, activity);
}

error utility_vm::remove_vpmem(const std::string& host_path, const std::string& activity) {
  return call_ok(remove_vpmem_atom_v, host_path, activity);
}

result<vsmb_share_handle> utility_vm::add_vsmb(const std::string& host_path,
                                               const hcs::virtual_smb_share_options& options,
                                               const std::string& activity) {
  return request<vsmb_share_handle>(add_vsmb_atom_v,
                                    vsmb_add_request{host_path, options, activity});
}

error utility_vm::remove_vsmb(const std::string& host_path, const std::string& activity) {
  return call_ok(remove_vsmb_atom_v, host_path, activity);
}

result<std::string> utility_vm::get_vsmb_uvm_path(const std::string& host_path) {
  return request<std::string>(vsmb_path_atom_v, host_path);
}

result<plan9_share_handle> utility_vm::add_plan9(const std::string& host_path,
                                                 const std::string& uvm_path, bool read_only,
                                                 bool restrict_access,
                                                 const std::vector<std::string>& allowed_names,
                                                 const std::string& activity) {
  return request<plan9_share_handle>(
      add_plan9_atom_v,
      plan9_add_request{host_path, uvm_path, read_only, restrict_access, allowed_names, activity});
}

error utility_vm::remove_plan9(const plan9_share_handle& share, const std::string& activity) {
  return call_ok(remove_plan9_atom_v, share.name, activity);
}

error utility_vm::add_pipe(const std::string& host_path, const std::string& activity) {
  return call_ok(add_pipe_atom_v, host_path, activity);
}

error utility_vm::remove_pipe(const std::string& host_path, const std::string& activity) {
  return call_ok(remove_pipe_atom_v, host_path, activity);
}

error utility_vm::add_net_ns(const std::string& id, const std::string& activity) {
  return call_ok(add_netns_atom_v, id, activity);
}

error utility_vm::remove_net_ns(const std::string& id, const std::string& activity) {
  return call_ok(remove_netns_atom_v, id, activity);
}

error utility_vm::add_endpoints_to_ns(const std::string& id,
                                      const std::vector<hcs::network_endpoint>& endpoints,
                                      const std::string& activity) {
  return call_ok(add_endpoints_atom_v, id, endpoints, activity);
}

error utility_vm::remove_endpoints_from_ns(const std::string& id,
                                           const std::vector<hcs::network_endpoint>& endpoints,
                                           const std::string& activity) {
  return call_ok(remove_endpoints_atom_v, id, endpoints, activity);
}

result<std::string> utility_vm::assign_device(const hcs::virtual_pci_device& device,
                                              const std::string& activity) {
  return request<std::string>(assign_device_atom_v, device, activity);
}

error utility_vm::remove_device(const std::string& id, const std::string& activity) {
  return call_ok(remove_device_atom_v, id, activity);
}

error utility_vm::combine_layers_lcow(const std::vector<std::string>& layer_paths,
                                      const std::string& scratch_path,
                                      const std::string& rootfs_path, const std::string& activity) {
  combine_layers_request req;
  req.layer_paths = layer_paths;
  req.scratch_path = scratch_path;
  req.root_path = rootfs_path;
  req.activity_id = activity;
  return call_ok(combine_layers_atom_v, std::move(req));
}

error utility_vm::combine_layers_wcow(const std::vector<hcs::layer>& layers,
                                      const std::string& container_root_path,
                                      const std::string& activity) {
  combine_layers_request req;
  req.lcow = false;
  req.layers = layers;
  req.root_path = container_root_path;
  req.activity_id = activity;
  return call_ok(combine_layers_atom_v, std::move(req));
}

error utility_vm::remove_combined_layers(const std::string& rootfs_path,
                                         const std::string& activity) {
  return call_ok(remove_layers_atom_v, rootfs_path, activity);
}

void utility_vm::add_scsi(scsi_add_request req, std::function<void(result<scsi_mount>)> done,
                          deadline due) {
  call_async<scsi_mount>(due, std::move(done), add_scsi_atom_v, std::move(req));
}

void utility_vm::remove_scsi(const std::string& host_path, callback done,
                             const std::string& activity, deadline due) {
  call_ok_async(due, std::move(done), remove_scsi_atom_v, host_path, activity);
}

void utility_vm::start(callback done, const std::string& activity, deadline due) {
  call_ok_async(due, std::move(done), start_atom_v, activity);
}

// Without a deadline Wait waits as long as the VM runs.
void utility_vm::wait(callback done, deadline due) {
  if (due != deadline{}) {
    call_ok_async(due, std::move(done), wait_atom_v);
    return;
  }
  dispatch([actor = actor_, done = std::move(done)](caf::event_based_actor* self) {
    self->request(caf::actor_cast<caf::actor>(actor), caf::infinite, wait_atom_v)
        .then([done](caf::ok_atom) { done({}); },
              [done](caf::error& e) { done(from_caf_error(e)); });
  });
}

void utility_vm::terminate(callback done, const std::string& activity, deadline due) {
  call_ok_async(due, std::move(done), terminate_atom_v, activity);
}

void utility_vm::close(callback done, const std::string& activity, deadline due) {
  call_ok_async(due, std::move(done), close_atom_v, activity);
}

} // namespace uvm
