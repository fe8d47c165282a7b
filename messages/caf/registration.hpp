// The engine's errors as CAF errors (category "uvm", the text in the
// context, so that a remote node sees the same words), and the message
// types every node registers.
#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>

#include "messages/errors.hpp"

CAF_ERROR_CODE_ENUM(uvm::errc, "uvm")

namespace uvm {

caf::error to_caf_error(const error& e);
inline caf::error to_caf_error(errc code) {
  return to_caf_error(error{code});
}
error from_caf_error(const caf::error& e);

// Registers the message types and the "uvm" error category; call on every
// node's config before the actor system starts.
void register_types(caf::actor_system_config& cfg);

} // namespace uvm
