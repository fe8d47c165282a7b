// HCS settings that callers hand to the engine and that travel unchanged
// into the requests it sends (hcs-schema.md §6, §7.2, uvm-api.md §9, §11,
// §13): VSMB share options, VPCI devices, layers and network endpoints.
// Plain data with their inspect(); their JSON lives in hcs/schema.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uvm::hcs {

struct virtual_smb_share_options {
  bool read_only = false;
  bool share_read = false;
  bool cache_io = false;
  bool no_oplocks = false;
  bool take_backup_privilege = false;
  bool use_share_root_identity = false;
  bool no_directmap = false;
  bool no_locks = false;
  bool no_dirnotify = false;
  bool vm_shared_memory = false;
  bool restrict_file_access = false;
  bool force_level_ii_oplocks = false;
  bool reparse_base_layer = false;
  bool pseudo_oplocks = false;
  bool non_cache_io = false;
  bool pseudo_dirnotify = false;
  bool single_file_mapping = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, virtual_smb_share_options& x) {
  return f(x.read_only, x.share_read, x.cache_io, x.no_oplocks, x.take_backup_privilege,
           x.use_share_root_identity, x.no_directmap, x.no_locks, x.no_dirnotify,
           x.vm_shared_memory, x.restrict_file_access, x.force_level_ii_oplocks,
           x.reparse_base_layer, x.pseudo_oplocks, x.non_cache_io, x.pseudo_dirnotify,
           x.single_file_mapping);
}

struct virtual_pci_function {
  std::string device_instance_path;
  uint16_t virtual_function = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, virtual_pci_function& x) {
  return f(x.device_instance_path, x.virtual_function);
}

struct virtual_pci_device {
  std::vector<virtual_pci_function> functions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, virtual_pci_device& x) {
  return f(x.functions);
}

struct layer {
  std::string id;
  std::string path;
  std::string path_type;
  std::string cache;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, layer& x) {
  return f(x.id, x.path, x.path_type, x.cache);
}

// The HNS endpoint fields the adapter requests carry.
struct network_endpoint {
  std::string id;
  std::string mac_address;
  std::string namespace_id;
  std::string ip_address; // "" prints as Go's nil IP, "<nil>"
  uint8_t prefix_length = 0;
  std::string gateway_address;
  std::string dns_suffix;
  std::string dns_server_list;
  bool enable_low_metric = false;
  uint16_t encap_overhead = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, network_endpoint& x) {
  return f(x.id, x.mac_address, x.namespace_id, x.ip_address, x.prefix_length, x.gateway_address,
           x.dns_suffix, x.dns_server_list, x.enable_low_metric, x.encap_overhead);
}

} // namespace uvm::hcs
