// Containers and processes in a utility VM's guest (uvm-api.md §6, §15):
// what callers send through the VM to its GCS bridge and what comes back.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace uvm {

namespace bridge {
class process_stdio;
}

// The plain process parameters of hcs-schema.md §8, for a process run
// directly in the utility VM or a WCOW container. Containers of an LCOW VM
// take `oci_process` (an OCI process object as JSON text) instead; without
// it a container's ExecuteProcess starts the container's init process.
struct process_parameters {
  std::vector<std::string> command_args;
  std::string command_line; // used when command_args is empty
  std::string working_directory;
  std::map<std::string, std::string> environment;
  bool emulate_console = false;
  bool create_stdin = false;
  bool create_stdout = false;
  bool create_stderr = false;
  std::string oci_process; // JSON text; empty = none

  // The ProcessParameters JSON text sent over the bridge.
  std::string to_json() const;
};

// CreateProcess / a container's CreateProcess: `parameters` is any JSON
// object (hcsshim takes interface{}); its Create*Pipe members say which
// stdio channels the host opens.
struct process_request {
  std::string container_id; // empty: in the utility VM, outside containers
  std::string parameters;
  std::string activity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, process_request& x) {
  return f(x.container_id, x.parameters, x.activity_id);
}

// A started process: its pid and the host's ends of its stdio. The stdio
// object lives in this process, so the reply does not cross nodes.
struct process_started {
  std::string container_id; // the bridge's: the null container's GUID
  uint32_t pid = 0;
  std::shared_ptr<bridge::process_stdio> stdio;
};

// Capabilities(): the negotiated protocol and the guest's capabilities.
struct guest_capabilities_info {
  uint32_t protocol = 0;
  bool namespace_add_request_supported = false;
  bool signal_process_supported = false;
  bool dump_stacks_supported = false;
  bool delete_container_state_supported = false;
  std::string runtime_os_type;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_capabilities_info& x) {
  return f(x.protocol, x.namespace_add_request_supported, x.signal_process_supported,
           x.dump_stacks_supported, x.delete_container_state_supported, x.runtime_os_type);
}

} // namespace uvm
