// SIGHUP: uvmd reads its --config file again for the log level. The file
// is parsed by CLI11's TOML reader, as at start, so that a key means the
// same thing in both.
#pragma once

#include <string>

#include "messages/errors.hpp"

namespace uvm::uvmd {

// The "log-level" (or "log_level") value of the config file at `path`,
// or "" when the file sets none. An unreadable file is an error naming it.
result<std::string> log_level_in_config(const std::string& path);

} // namespace uvm::uvmd
