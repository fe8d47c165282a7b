#include "engine/utility_vm.hpp"

#include "engine/calls.hpp"
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
  return call(calls::start{activity});
}

error utility_vm::wait() {
  return call(calls::wait{});
}

error utility_vm::terminate(const std::string& activity) {
  return call(calls::terminate{activity});
}

error utility_vm::shutdown(const std::string& activity) {
  return call(calls::shutdown{activity});
}

error utility_vm::close(const std::string& activity) {
  return call(calls::close{activity});
}

error utility_vm::exit_error() {
  return call(calls::exit_error{});
}

error utility_vm::update_memory(uint64_t bytes, const std::string& activity) {
  return call(calls::update_memory{bytes, activity});
}

error utility_vm::update_cpu_limits(const cpu_limits& limits, const std::string& activity) {
  return call(calls::update_cpu_limits{limits, activity});
}

result<vm_stats> utility_vm::stats(const std::string& activity) {
  return call(calls::stats{activity});
}

result<uint64_t> utility_vm::container_counter() {
  return call(calls::container_counter{});
}

result<uint64_t> utility_vm::uvm_mount_counter() {
  return call(calls::uvm_mount_counter{});
}

result<guest_process> utility_vm::create_process(const std::string& parameters,
                                                 const std::string& activity) {
  return call(calls::create_process{parameters, activity});
}

result<guest_container> utility_vm::create_container(const std::string& id,
                                                     const std::string& config,
                                                     const std::string& activity) {
  return call(calls::create_container{id, config, activity});
}

result<std::string> utility_vm::dump_stacks(const std::string& activity) {
  return call(calls::dump_stacks{activity});
}

error utility_vm::delete_container_state(const std::string& container_id,
                                         const std::string& activity) {
  return call(calls::delete_container_state{container_id, activity});
}

result<guest_capabilities_info> utility_vm::capabilities() {
  return call(calls::capabilities{});
}

bool utility_vm::signal_process_supported() {
  return call(calls::signal_process_supported{});
}

bool utility_vm::delete_container_state_supported() {
  return call(calls::delete_container_state_supported{});
}

result<vm_info> utility_vm::info() {
  return call(calls::info{});
}

result<std::string> utility_vm::device_view() {
  return call(calls::device_view{});
}

result<resource::scsi_mount> utility_vm::add_scsi(const std::string& host_path,
                                                  const std::string& uvm_path, bool read_only,
                                                  vm_access_type vm_access,
                                                  const std::string& activity) {
  return call(calls::add_scsi{{host_path, uvm_path, read_only, vm_access, false, activity}});
}

// AddSCSIPhysicalDisk always grants the VM individual access.
result<resource::scsi_mount> utility_vm::add_scsi_physical_disk(const std::string& host_path,
                                                                const std::string& uvm_path,
                                                                bool read_only,
                                                                const std::string& activity) {
  return call(calls::add_scsi{
      {host_path, uvm_path, read_only, vm_access_type::individual, true, activity}});
}

error utility_vm::remove_scsi(const std::string& host_path, const std::string& activity) {
  return call(calls::remove_scsi{host_path, activity});
}

result<vm_devices> utility_vm::devices() {
  return call(calls::devices{});
}

result<std::string> utility_vm::get_scsi_uvm_path(const std::string& host_path) {
  return call(calls::get_scsi_uvm_path{host_path});
}

// A message without an answer: nothing to wait for.
void utility_vm::guest_fail(uint32_t count) {
  caf::anon_send(actor_, guest_fail_atom_v, count);
}

result<std::string> utility_vm::add_vpmem(const std::string& host_path,
                                          const std::string& activity) {
  return call(calls::add_vpmem{host_path, activity});
}

error utility_vm::remove_vpmem(const std::string& host_path, const std::string& activity) {
  return call(calls::remove_vpmem{host_path, activity});
}

result<resource::vsmb_share> utility_vm::add_vsmb(const std::string& host_path,
                                                  const hcs::virtual_smb_share_options& options,
                                                  const std::string& activity) {
  return call(calls::add_vsmb{{host_path, options, activity}});
}

error utility_vm::remove_vsmb(const std::string& host_path, const std::string& activity) {
  return call(calls::remove_vsmb{host_path, activity});
}

result<std::string> utility_vm::get_vsmb_uvm_path(const std::string& host_path) {
  return call(calls::get_vsmb_uvm_path{host_path});
}

result<resource::plan9_share> utility_vm::add_plan9(const std::string& host_path,
                                                    const std::string& uvm_path, bool read_only,
                                                    bool restrict_access,
                                                    const std::vector<std::string>& allowed_names,
                                                    const std::string& activity) {
  return call(
      calls::add_plan9{{host_path, uvm_path, read_only, restrict_access, allowed_names, activity}});
}

error utility_vm::remove_plan9(const plan9_share_handle& share, const std::string& activity) {
  return call(calls::remove_plan9{share.name, activity});
}

result<resource::pipe_mount> utility_vm::add_pipe(const std::string& host_path,
                                                  const std::string& activity) {
  return call(calls::add_pipe{host_path, activity});
}

error utility_vm::remove_pipe(const std::string& host_path, const std::string& activity) {
  return call(calls::remove_pipe{host_path, activity});
}

error utility_vm::add_net_ns(const std::string& id, const std::string& activity) {
  return call(calls::add_net_ns{id, activity});
}

error utility_vm::remove_net_ns(const std::string& id, const std::string& activity) {
  return call(calls::remove_net_ns{id, activity});
}

error utility_vm::add_endpoints_to_ns(const std::string& id,
                                      const std::vector<hcs::network_endpoint>& endpoints,
                                      const std::string& activity) {
  return call(calls::add_endpoints_to_ns{id, endpoints, activity});
}

error utility_vm::remove_endpoints_from_ns(const std::string& id,
                                           const std::vector<hcs::network_endpoint>& endpoints,
                                           const std::string& activity) {
  return call(calls::remove_endpoints_from_ns{id, endpoints, activity});
}

result<resource::vpci_device> utility_vm::assign_device(const hcs::virtual_pci_device& device,
                                                        const std::string& activity) {
  return call(calls::assign_device{device, activity});
}

error utility_vm::remove_device(const std::string& id, const std::string& activity) {
  return call(calls::remove_device{id, activity});
}

error utility_vm::combine_layers_lcow(const std::vector<std::string>& layer_paths,
                                      const std::string& scratch_path,
                                      const std::string& rootfs_path, const std::string& activity) {
  return call(calls::combine_layers{{true, layer_paths, scratch_path, {}, rootfs_path, activity}});
}

error utility_vm::combine_layers_wcow(const std::vector<hcs::layer>& layers,
                                      const std::string& container_root_path,
                                      const std::string& activity) {
  return call(calls::combine_layers{{false, {}, {}, layers, container_root_path, activity}});
}

error utility_vm::remove_combined_layers(const std::string& rootfs_path,
                                         const std::string& activity) {
  return call(calls::remove_combined_layers{rootfs_path, activity});
}

void utility_vm::add_scsi(scsi_add_request req, std::function<void(result<scsi_mount>)> done,
                          deadline due) {
  call(
      calls::add_scsi{std::move(req)},
      [done = std::move(done)](result<resource::scsi_mount> m) {
        done(m ? result<scsi_mount>{*m} : result<scsi_mount>{m.err()});
      },
      due);
}

void utility_vm::remove_scsi(const std::string& host_path, callback done,
                             const std::string& activity, deadline due) {
  call(calls::remove_scsi{host_path, activity}, std::move(done), due);
}

void utility_vm::start(callback done, const std::string& activity, deadline due) {
  call(calls::start{activity}, std::move(done), due);
}

void utility_vm::wait(callback done, deadline due) {
  call(calls::wait{}, std::move(done), due);
}

void utility_vm::terminate(callback done, const std::string& activity, deadline due) {
  call(calls::terminate{activity}, std::move(done), due);
}

void utility_vm::close(callback done, const std::string& activity, deadline due) {
  call(calls::close{activity}, std::move(done), due);
}

} // namespace uvm
