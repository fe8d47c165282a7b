#include "guest/process_params.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge/command_line.hpp"
#include "gojson/go_json.hpp"

namespace uvm::guest {

using json = nlohmann::json;

const json* member(const json& obj, std::string_view name) {
  return obj.is_object() ? gojson::find_ci(obj, name) : nullptr;
}

bool flag(const json& obj, std::string_view name) {
  const auto* v = member(obj, name);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

std::string text(const json& obj, std::string_view name) {
  const auto* v = member(obj, name);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string{};
}

namespace {

// A console dimension; 0 (the pty's default) unless a number that fits.
uint16_t dimension(const json* v) {
  if (v == nullptr || !v->is_number_unsigned() || v->get<uint64_t>() > 0xFFFF) {
    return 0;
  }
  return static_cast<uint16_t>(v->get<uint64_t>());
}

} // namespace

result<process_spec> oci_process_spec(const json& oci) {
  process_spec spec;
  const auto* args = member(oci, "args");
  if (args == nullptr || !args->is_array() || args->empty()) {
    return error{errc::bad_request, "the OCI process has no args"};
  }
  for (const auto& a : *args) {
    if (!a.is_string()) {
      return error{errc::bad_request, "OCI process args must be strings"};
    }
    spec.args.push_back(a.get<std::string>());
  }
  if (const auto* env = member(oci, "env"); env != nullptr && env->is_array()) {
    for (const auto& e : *env) {
      auto kv = e.is_string() ? e.get<std::string>() : std::string{};
      auto eq = kv.find('=');
      if (eq != std::string::npos) {
        spec.env[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
    }
  }
  spec.cwd = text(oci, "cwd");
  spec.terminal = flag(oci, "terminal");
  if (const auto* size = member(oci, "consoleSize"); size != nullptr) {
    spec.rows = dimension(member(*size, "height"));
    spec.cols = dimension(member(*size, "width"));
  }
  return spec;
}

result<process_spec> uvm_process_spec(const json& params) {
  process_spec spec;
  if (const auto* args = member(params, "CommandArgs"); args != nullptr && args->is_array()) {
    for (const auto& a : *args) {
      if (!a.is_string()) {
        return error{errc::bad_request, "CommandArgs must be strings"};
      }
      spec.args.push_back(a.get<std::string>());
    }
  }
  if (spec.args.empty()) {
    auto words = bridge::split_command_line(text(params, "CommandLine"));
    if (!words) {
      return words.err();
    }
    spec.args = std::move(*words);
  }
  if (const auto* env = member(params, "Environment"); env != nullptr && env->is_object()) {
    for (auto it = env->begin(); it != env->end(); ++it) {
      if (it.value().is_string()) {
        spec.env[it.key()] = it.value().get<std::string>();
      }
    }
  }
  spec.cwd = text(params, "WorkingDirectory");
  spec.terminal = flag(params, "EmulateConsole");
  // ConsoleSize is [height, width].
  if (const auto* size = member(params, "ConsoleSize");
      size != nullptr && size->is_array() && size->size() == 2) {
    spec.rows = dimension(&(*size)[0]);
    spec.cols = dimension(&(*size)[1]);
  }
  return spec;
}

result<int> dial_relay(const std::string& dir, uint32_t port) {
  auto path = dir + "/port-" + std::to_string(port) + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return error{errc::io_failure, "relay socket path too long: " + path};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return error{errc::io_failure, std::string{"socket: "} + std::strerror(errno)};
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    auto why = std::string{std::strerror(errno)};
    ::close(fd);
    return error{errc::io_failure, "dial " + path + ": " + why};
  }
  return fd;
}

std::string thread_dump() {
  std::ostringstream out;
  auto* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    return "threads: /proc/self/task unavailable\n";
  }
  while (auto* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') {
      continue;
    }
    std::string base = std::string{"/proc/self/task/"} + e->d_name;
    std::string comm, wchan;
    std::getline(std::ifstream(base + "/comm"), comm);
    std::getline(std::ifstream(base + "/wchan"), wchan);
    out << "thread " << e->d_name << " [" << comm << "]: " << (wchan.empty() ? "running" : wchan)
        << "\n";
  }
  ::closedir(dir);
  return out.str();
}

} // namespace uvm::guest
