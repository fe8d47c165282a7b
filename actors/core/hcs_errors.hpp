// The texts hcsshim gives HCS failures (hcs-schema.md §2.6) and the modify
// dispatcher's wrapping of them (uvm-api.md §4).
#pragma once

#include <string>

#include "hcs/backend.hpp"
#include "messages/errors.hpp"

namespace uvm {

// SystemError: "hcsshim::<op> <id>: <inner>", plus "\n(extra info: <json>)"
// when the call carried a document or request.
inline error hcs_error(const std::string& op, const std::string& id, const hcs::call_result& r,
                       const std::string& extra = {}) {
  std::string text = "hcsshim::" + op + " " + id + ": " +
                     (r.message.empty() ? hcs::hresult_text(r.hresult) : r.message);
  if (!extra.empty()) {
    text += "\n(extra info: " + extra + ")";
  }
  return error{errc::hcs_failure, std::move(text)};
}

// Prefixes an error's text, keeping its code: "<prefix>: <text>".
inline error wrap(const std::string& prefix, const error& e) {
  return error{e.code, prefix + ": " + e.text};
}

} // namespace uvm
