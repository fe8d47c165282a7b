// Events on the bus (the CAF group "uvm.events"). Every event names its VM
// and the activity that caused it.
#pragma once

#include <cstdint>
#include <string>

namespace uvm {

struct vm_created_event {
  std::string vm_id;
  std::string activity_id;
  std::string os;
  uint32_t restarts = 0; // > 0 when the supervisor re-created the VM
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_created_event& x) {
  return f(x.vm_id, x.activity_id, x.os, x.restarts);
}

struct vm_started_event {
  std::string vm_id;
  std::string activity_id;
  uint32_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_started_event& x) {
  return f(x.vm_id, x.activity_id, x.restarts);
}

// Published once per exit, expected (after terminate/shutdown) or not.
struct vm_exited_event {
  std::string vm_id;
  std::string activity_id;
  bool unexpected = false;
  std::string exit_error; // empty for a clean exit
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_exited_event& x) {
  return f(x.vm_id, x.activity_id, x.unexpected, x.exit_error);
}

// The supervisor's decision after an unexpected exit.
struct vm_restart_event {
  std::string vm_id;
  std::string action; // "restart" (after delay_ms) or "gave-up"
  uint32_t attempt = 0;
  uint32_t delay_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_restart_event& x) {
  return f(x.vm_id, x.action, x.attempt, x.delay_ms);
}

struct vm_closed_event {
  std::string vm_id;
  std::string activity_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_closed_event& x) {
  return f(x.vm_id, x.activity_id);
}

// A device attached or removed (kind: "scsi", "vpmem", "vsmb", "plan9", ...).
struct device_event {
  std::string vm_id;
  std::string activity_id;
  std::string kind;
  std::string action; // "added" or "removed"
  std::string host_path;
  std::string slot;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, device_event& x) {
  return f(x.vm_id, x.activity_id, x.kind, x.action, x.host_path, x.slot);
}

struct container_event {
  std::string vm_id;
  std::string container_id;
  std::string activity_id;
  std::string type; // notification Type, e.g. "UnexpectedExit"
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_event& x) {
  return f(x.vm_id, x.container_id, x.activity_id, x.type);
}

} // namespace uvm
