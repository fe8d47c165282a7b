#include "hcs/backend.hpp"

#include <array>

namespace uvm::hcs {

namespace {

constexpr std::array<const char*, call_kind_count> call_kind_names = {
    "create", "start", "modify", "shutdown", "terminate", "properties",
};

} // namespace

const char* to_string(call_kind kind) {
  return call_kind_names[static_cast<std::size_t>(kind)];
}

bool parse_call_kind(const std::string& name, call_kind& out) {
  for (std::size_t i = 0; i < call_kind_names.size(); ++i) {
    if (name == call_kind_names[i]) {
      out = static_cast<call_kind>(i);
      return true;
    }
  }
  return false;
}

} // namespace uvm::hcs
