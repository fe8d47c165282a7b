// The host compute service boundary: what every backend (the simulator, a
// QEMU/QMP backend, vmcompute on Windows) offers the engine. Every call is
// asynchronous: it returns at once and reports through its completion,
// which may run on any thread (never while the caller's own call is still
// on the stack, so a caller may hold no lock across it but need not fear
// re-entrancy either). Documents and requests are the hcsschema v2 JSON
// texts of hcs-schema.md, exactly as HCS would receive them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace uvm::hcs {

enum class call_kind : uint8_t { create, start, modify, shutdown, terminate, properties };
constexpr int call_kind_count = 6;

const char* to_string(call_kind kind);
// Parses "create", "start", ...; false for an unknown name.
bool parse_call_kind(const std::string& name, call_kind& out);

// HRESULTs the engine and the backends use (hcs-schema.md §2.6).
namespace hr {
constexpr uint32_t ok = 0;
constexpr uint32_t fail = 0x80004005;              // E_FAIL
constexpr uint32_t not_impl = 0x80004001;          // E_NOTIMPL
constexpr uint32_t invalid_arg = 0x80070057;       // E_INVALIDARG
constexpr uint32_t element_not_found = 0x80070490; // ERROR_NOT_FOUND
constexpr uint32_t operation_pending = 0xC0370103;
constexpr uint32_t invalid_state = 0xC0370105;
constexpr uint32_t unexpected_exit = 0xC0370106;
constexpr uint32_t invalid_json = 0xC037010D;
constexpr uint32_t system_not_found = 0xC037010E;
constexpr uint32_t already_exists = 0xC037010F;
constexpr uint32_t already_stopped = 0xC0370110;
} // namespace hr

// The Windows system message for an HRESULT (without trailing newline), or
// "HRESULT 0x%08x" for one we do not know.
std::string hresult_text(uint32_t hresult);

struct call_result {
  uint32_t hresult = hr::ok;
  std::string message; // the inner error text when hresult != ok
  std::string payload; // properties JSON for `properties`; empty otherwise

  bool ok() const { return hresult == hr::ok; }
  static call_result success(std::string payload = {}) { return {hr::ok, {}, std::move(payload)}; }
  static call_result failure(uint32_t code, std::string message) {
    return {code, std::move(message), {}};
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_result& x) {
  return f(x.hresult, x.message, x.payload);
}

using completion = std::function<void(call_result)>;

// A system's exit, reported once per created system (hcs-schema.md §2.5):
// hresult ok for an exit the host asked for (shutdown, terminate),
// unexpected_exit when the system stopped on its own (a guest crash).
struct exit_info {
  uint32_t hresult = hr::ok;
  std::string message;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, exit_info& x) {
  return f(x.hresult, x.message);
}

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
  // decides it (a link spec of guest/link.hpp); empty: the engine's own
  // choice.
  virtual std::string guest_connection(const std::string& /*id*/) { return {}; }
};

} // namespace uvm::hcs
