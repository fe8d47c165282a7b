// Command lines as words: a process's CommandLine and an exec: guest.
#pragma once

#include <string>
#include <vector>

#include "messages/errors.hpp"

namespace uvm::bridge {

// Shell-word splitting of a CommandLine: blanks separate words, single
// quotes keep everything, double quotes and backslashes escape.
result<std::vector<std::string>> split_command_line(const std::string& line);

} // namespace uvm::bridge
