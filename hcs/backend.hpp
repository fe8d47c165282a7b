// The host compute service boundary: what every backend (the simulator, a
// QEMU/QMP backend, vmcompute on Windows) offers the engine. Every call is
// asynchronous: it reports through its completion, exactly once, on any
// thread. A backend may complete a call inside the call itself (the
// simulator does when asked to: sim_backend::set_inline_completions), so a
// caller holds no lock across a call; the engine's actors route every
// completion through their completion_inbox (actors/core), which runs the
// continuation after the call returned either way. Documents and requests
// are the hcsschema v2 JSON texts of hcs-schema.md, exactly as HCS would
// receive them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "messages/hcs_types.hpp"
#include "messages/options.hpp"

namespace uvm::hcs {

enum class call_kind : uint8_t { create, start, modify, shutdown, terminate, properties };
constexpr int call_kind_count = 6;

const char* to_string(call_kind kind);
// Parses "create", "start", ...; false for an unknown name.
bool parse_call_kind(const std::string& name, call_kind& out);

using completion = std::function<void(call_result)>;

using exit_handler = std::function<void(exit_info)>;

class backend {
public:
  virtual ~backend() = default;

  // HcsCreateComputeSystem. `on_exit` is called once when the system exits
  // (unless `close` came first).
  virtual void create(const std::string& id, std::string document, exit_handler on_exit,
                      completion done) = 0;
  virtual void start(const std::string& id, completion done) = 0;
  // HcsModifyComputeSystem with a ModifySettingRequest (host part only).
  virtual void modify(const std::string& id, std::string request, completion done) = 0;
  virtual void shutdown(const std::string& id, completion done) = 0;
  virtual void terminate(const std::string& id, completion done) = 0;
  // HcsGetComputeSystemProperties; `query` is e.g. {"PropertyTypes":["Statistics"]}.
  virtual void properties(const std::string& id, std::string query, completion done) = 0;
  // HcsCloseComputeSystem: forget the handle; no exit notification follows.
  virtual void close(const std::string& id) = 0;
  // How the host reaches this system's guest agent when the backend
  // decides it (a link spec of bridge/guest_link.hpp); empty: the engine's own
  // choice.
  virtual std::string guest_connection(const std::string& /*id*/) { return {}; }
  // vmcompute's GrantVmAccess and the VM group's entry (uvm-api.md §7.1):
  // lets system `id` open `path` (hcs/vm_access.hpp). Synchronous, like
  // the Windows call: a few system calls on one file. The error's text,
  // empty on success; a backend without principals grants nothing.
  virtual std::string grant_vm_access(const std::string& /*id*/, const std::string& /*path*/,
                                      vm_access_type /*access*/, bool /*read_only*/) {
    return {};
  }
  // System `id` no longer uses `path`: the entries only it held go. Close
  // releases whatever the system still holds.
  virtual std::string release_vm_access(const std::string& /*id*/, const std::string& /*path*/) {
    return {};
  }
};

} // namespace uvm::hcs
