// The engine's error vocabulary. Codes with a fixed text carry the seed's
// words exactly (spec/uvm-api.md §2); the others carry their full text with
// them (validation errors, HCS errors, exits), formatted where they arise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace uvm {

enum class errc : uint8_t {
  ok = 0,
  // Fixed texts from the seed.
  no_available_location,       // "no available location"
  not_attached,                // "not attached"
  already_attached,            // "already attached"
  no_scsi_controllers,         // "no SCSI controllers configured for this utility VM"
  too_many_attachments,        // "too many SCSI attachments"
  scsi_layer_wcow_unsupported, // "SCSI attached layers are not supported for WCOW"
  max_vpmem_layer_size,        // "layer size is to large for VPMEM max size" (sic)
  netns_already_attached,      // "network namespace already added"
  netns_not_found,             // "network namespace not found"
  not_supported,               // "not supported"
  not_exited,                  // "container not exited"
  // Texts formatted where the error arises; the message carries them.
  invalid_options,   // CreateLCOW/CreateWCOW validation
  hcs_failure,       // the HCS backend refused or failed a call
  vm_exited,         // the VM exited unexpectedly; names the exit
  invalid_state,     // a call that the VM's lifecycle state forbids
  closed,            // the VM was closed: its actor is gone
  not_found,         // unknown VM id or name
  already_exists,    // a VM with that id exists
  bad_request,       // malformed input (scenario lines, arguments)
  io_failure,        // host file system errors
  internal,          // a broken invariant; never expected
  busy,              // admission control refused the call (a VM's or the engine's limit)
  deadline_exceeded, // "deadline exceeded": the caller's deadline passed first
};

// The fixed text of a code, or an empty view for codes whose text travels
// with the error.
std::string_view default_text(errc code);

// An error value usable without an actor system: a code and its full text.
struct error {
  errc code = errc::ok;
  std::string text;

  error() = default;
  explicit error(errc c) : code(c), text(default_text(c)) {}
  error(errc c, std::string t) : code(c), text(std::move(t)) {}

  explicit operator bool() const { return code != errc::ok; }
};

// A value or an error, for pure code that must not depend on CAF.
template <class T>
class result {
public:
  result(T value) : value_(std::move(value)) {}
  result(error err) : error_(std::move(err)) {}

  explicit operator bool() const { return value_.has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const error& err() const { return error_; }

private:
  std::optional<T> value_;
  error error_;
};

} // namespace uvm
