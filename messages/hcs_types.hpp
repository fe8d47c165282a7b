// What crosses the boundary between the engine and an HCS backend: the
// result of a call (an HRESULT, the inner error text, a payload) and the
// report of a system's exit. Plain data; the backends live in hcs/.
#pragma once

#include <cstdint>
#include <string>

namespace uvm::hcs {

// HRESULTs the engine and the backends use (hcs-schema.md §2.6).
namespace hr {
constexpr uint32_t ok = 0;
constexpr uint32_t fail = 0x80004005;              // E_FAIL
constexpr uint32_t not_impl = 0x80004001;          // E_NOTIMPL
constexpr uint32_t invalid_arg = 0x80070057;       // E_INVALIDARG
constexpr uint32_t not_supported = 0x80070032;     // ERROR_NOT_SUPPORTED
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

} // namespace uvm::hcs
