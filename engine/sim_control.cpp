#include "engine/sim_control.hpp"

#include <chrono>

namespace uvm {

result<std::string> apply_sim_control(hcs::sim_backend& sim, const sim_control& c) {
  if (c.call >= hcs::call_kind_count) {
    return error{errc::bad_request, "unknown HCS call kind " + std::to_string(c.call)};
  }
  auto call = static_cast<hcs::call_kind>(c.call);
  using kind = sim_control::kind;
  switch (c.what) {
  case kind::fail_next:
    sim.fail_next(call, c.count, c.target);
    return std::string{};
  case kind::fail_with_probability:
    sim.fail_with_probability(call, c.probability);
    return std::string{};
  case kind::crash_now:
    sim.crash(c.target);
    return std::string{};
  case kind::crash_after_calls:
    sim.crash_after_calls(c.target, c.count);
    return std::string{};
  case kind::crash_after_delay:
    sim.crash_after(c.target, std::chrono::microseconds{c.min_us});
    return std::string{};
  case kind::latency:
    sim.set_latency(call, std::chrono::microseconds{c.min_us}, std::chrono::microseconds{c.max_us});
    return std::string{};
  case kind::oracle:
    return sim.oracle().dump();
  }
  return error{errc::bad_request, "unknown simulator control"};
}

} // namespace uvm
