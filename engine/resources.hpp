// The seed's resource handle types (uvm-api.md §3.6): what an add call
// gives back, with Release(). Each carries the data of its add (so that
// `m->controller` reads as before) and where its release goes. A release
// bound to a VM is that VM's remove call; when it fails it logs a warning
// and returns the error. NetworkEndpoints is bound to no VM: its release
// is the host's cleanup (engine/host_network.hpp) and returns errors
// without logging. Every release has a blocking and an asynchronous form,
// both through engine/call.hpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/call.hpp"
#include "messages/device_types.hpp"

namespace uvm {

class host_network;

namespace resource {

using release_callback = std::function<void(error)>;

// What a VM-bound handle keeps of its VM.
class vm_bound {
public:
  const call_site& site() const { return site_; }

protected:
  vm_bound() = default;
  explicit vm_bound(call_site site) : site_(std::move(site)) {}
  call_site site_;
};

// SCSIMount: released with RemoveSCSI(HostPath).
class scsi_mount : public uvm::scsi_mount, public vm_bound {
public:
  scsi_mount() = default;
  scsi_mount(uvm::scsi_mount m, call_site site) : uvm::scsi_mount(std::move(m)), vm_bound(site) {}
  error release(const std::string& activity = {}) const;
  void release(release_callback done, const std::string& activity = {},
               call_deadline due = {}) const;
  caf::message release_message(const std::string& activity) const;
};

// VSMBShare: released with RemoveVSMB(HostPath), the path as passed.
class vsmb_share : public vsmb_share_handle, public vm_bound {
public:
  vsmb_share() = default;
  vsmb_share(vsmb_share_handle s, call_site site)
      : vsmb_share_handle(std::move(s)), vm_bound(site) {}
  error release(const std::string& activity = {}) const;
  void release(release_callback done, const std::string& activity = {},
               call_deadline due = {}) const;
  caf::message release_message(const std::string& activity) const;
};

// Plan9Share: released with RemovePlan9(share).
class plan9_share : public plan9_share_handle, public vm_bound {
public:
  plan9_share() = default;
  plan9_share(plan9_share_handle s, call_site site)
      : plan9_share_handle(std::move(s)), vm_bound(site) {}
  error release(const std::string& activity = {}) const;
  void release(release_callback done, const std::string& activity = {},
               call_deadline due = {}) const;
  caf::message release_message(const std::string& activity) const;
};

// PipeMount: released with RemovePipe(HostPath).
class pipe_mount : public vm_bound {
public:
  pipe_mount() = default;
  pipe_mount(std::string path, call_site site) : vm_bound(site), host_path(std::move(path)) {}
  error release(const std::string& activity = {}) const;
  void release(release_callback done, const std::string& activity = {},
               call_deadline due = {}) const;
  caf::message release_message(const std::string& activity) const;

  std::string host_path;
};

// VPCIDevice: its GUID, released with RemoveDevice(ID).
class vpci_device : public vm_bound {
public:
  vpci_device() = default;
  vpci_device(std::string guid, call_site site) : vm_bound(site), id(std::move(guid)) {}
  error release(const std::string& activity = {}) const;
  void release(release_callback done, const std::string& activity = {},
               call_deadline due = {}) const;
  caf::message release_message(const std::string& activity) const;

  std::string id;
};

// NetworkEndpoints: a host network namespace and the endpoints in it.
// Release detaches each endpoint (one already gone is logged and
// skipped), then deletes the namespace (one already gone is no error);
// the blocking form clears `endpoint_ids` once it succeeded.
class network_endpoints {
public:
  network_endpoints() = default;
  network_endpoints(std::vector<std::string> ids, std::string ns, engine* eng,
                    std::shared_ptr<host_network> hns)
      : endpoint_ids(std::move(ids)), namespace_id(std::move(ns)), eng_(eng), hns_(std::move(hns)) {
  }
  error release();
  void release(release_callback done, call_deadline due = {}) const;
  call_site site() const { return {eng_, {}, {}}; }
  host_network* hns() const { return hns_.get(); }

  std::vector<std::string> endpoint_ids;
  std::string namespace_id;

private:
  engine* eng_ = nullptr;
  std::shared_ptr<host_network> hns_;
};

} // namespace resource
} // namespace uvm
