// An errno in the words of the guest's error messages: strerror's text
// starting lower case ("no such file or directory"), as Go words it.
#pragma once

#include <cctype>
#include <cstring>
#include <string>

namespace uvm::guest {

inline std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) {
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  }
  return s;
}

} // namespace uvm::guest
