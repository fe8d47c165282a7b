#include "guest/mount_mode.hpp"

namespace uvm::guest {

result<mount_mode> parse_mount_mode(const std::string& text) {
  if (text == "table") {
    return mount_mode::table;
  }
  if (text == "real") {
    return mount_mode::real;
  }
  return error{errc::bad_request, "--mounts: expected table or real, got '" + text + "'"};
}

} // namespace uvm::guest
