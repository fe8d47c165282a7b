// Replies every handler of the guest service (guest/service.hpp) builds.
#pragma once

#include <optional>
#include <string>

#include "bridge/rpc_messages.hpp"
#include "messages/errors.hpp"

namespace uvm::guest {

inline bridge::response ok_response(const std::string& activity_id) {
  bridge::response r;
  r.activity_id = activity_id;
  return r;
}

// An unparsable body has no ActivityId to echo.
inline bridge::response bad_body(const error& e) {
  return bridge::failure(bridge::hresult::invalid_json, e.text, std::nullopt);
}

} // namespace uvm::guest
