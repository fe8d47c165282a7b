// uvm-bench storm: runs the fault storm and prints its report; the
// summary goes to stderr for the operator, the JSON object to stdout.
#include <iostream>
#include <string>

#include "actors/core/logging.hpp"
#include "bench/benches.hpp"

namespace uvm::bench {

int storm_bench(storm::options o, const std::string& log_level, bool json) {
  logging::level level{};
  if (!logging::parse_level(log_level, level)) {
    std::cerr << "storm: --log-level must be trace, debug, info, warn, error or off\n";
    return 2;
  }
  // Off by default: every injected fault and crash is logged.
  logging::init(logging::format::human, level);
  o.host = detect_host();
  auto r = storm::run(o);
  std::cerr << r.summary() << "\n";
  std::cout << r.to_json().dump(json ? -1 : 2) << "\n";
  return r.clean() ? 0 : 1;
}

} // namespace uvm::bench
