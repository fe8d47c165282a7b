#include "messages/hcs_types.hpp"

#include <array>
#include <cstdio>

namespace uvm::hcs {

std::string hresult_text(uint32_t hresult) {
  switch (hresult) {
  case hr::ok:
    return "The operation completed successfully.";
  case hr::fail:
    return "Unspecified error";
  case hr::not_impl:
    return "Not implemented";
  case hr::invalid_arg:
    return "The parameter is incorrect.";
  case hr::not_supported:
    return "The request is not supported.";
  case hr::element_not_found:
    return "Element not found.";
  case hr::operation_pending:
    return "The virtual machine or container operation is pending.";
  case hr::invalid_state:
    return "The requested virtual machine or container operation is not valid in the current "
           "state.";
  case hr::unexpected_exit:
    return "The virtual machine or container exited unexpectedly.";
  case hr::invalid_json:
    return "The JSON document is invalid.";
  case hr::system_not_found:
    return "A virtual machine or container with the specified identifier does not exist.";
  case hr::already_exists:
    return "A virtual machine or container with the specified identifier already exists.";
  case hr::already_stopped:
    return "The virtual machine or container with the specified identifier is not running.";
  default: {
    std::array<char, 24> text{};
    std::snprintf(text.data(), text.size(), "HRESULT 0x%08x", hresult);
    return text.data();
  }
  }
}

} // namespace uvm::hcs
