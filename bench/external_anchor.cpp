// An anchor from outside the engine, measured in the same run: a program
// that runs its own add/release loop for `-seconds S` and prints one JSON
// object with `ops_per_s` on its last line of output (bench/anchor/ builds
// one from hcsshim's own SCSI manager).
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "bench/benches.hpp"
#include "bench/child_process.hpp"

namespace uvm::bench {

namespace {

// Runs `argv` and returns its stdout; throws when it cannot start or does
// not exit 0.
std::string run_capturing(const std::vector<std::string>& argv) {
  auto child = spawn_with_piped_stdout(argv, true);
  std::string out;
  char buf[4096];
  for (;;) {
    auto n = read(child.stdout_fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(child.stdout_fd);
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(argv[0] + " failed (wait status " + std::to_string(status) + ")");
  }
  return out;
}

} // namespace

external_anchor measure_external_anchor(const std::string& program, double seconds) {
  auto out = run_capturing({program, "-seconds", std::to_string(seconds)});
  std::istringstream lines(out);
  std::string line;
  std::string last;
  while (std::getline(lines, line)) {
    if (!line.empty()) {
      last = line;
    }
  }
  auto j = nlohmann::json::parse(last, nullptr, false);
  if (!j.is_object() || !j.contains("ops_per_s") || !j["ops_per_s"].is_number() ||
      j["ops_per_s"].get<double>() <= 0) {
    throw std::runtime_error(program + " printed no JSON object with a positive ops_per_s");
  }
  return {j["ops_per_s"].get<double>(), last};
}

} // namespace uvm::bench
