#include "tools/uvmd/config_reload.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <CLI/CLI.hpp>

namespace uvm::uvmd {

result<std::string> log_level_in_config(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    return error{errc::io_failure, "cannot read " + path + ": " + std::strerror(errno)};
  }
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML{}.from_config(in);
  } catch (const CLI::Error& e) {
    return error{errc::bad_request, path + ": " + e.what()};
  }
  std::string level;
  for (const auto& item : items) {
    bool top_level =
        item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == "default");
    if (top_level && (item.name == "log-level" || item.name == "log_level") &&
        item.inputs.size() == 1) {
      level = item.inputs.front();
    }
  }
  return level;
}

} // namespace uvm::uvmd
