#include "engine/dispatcher.hpp"

namespace uvm {

caf::behavior dispatcher::make_behavior() {
  return {[this](const dispatch_job& job) { job.run(this); }, [this](deadline_sweep) { sweep(); }};
}

void dispatcher::arm(clock::time_point due) {
  if (armed_ && *armed_ <= due) {
    return;
  }
  armed_ = due;
  auto delay = std::max(due - clock::now(), clock::duration::zero());
  delayed_send(this, std::chrono::duration_cast<std::chrono::microseconds>(delay),
               deadline_sweep{});
}

void dispatcher::sweep() {
  auto now = clock::now();
  if (armed_ && *armed_ > now) {
    return; // an earlier sweep's message, overtaken by a later arm()
  }
  armed_.reset();
  for (auto& expire : deadlines_.expire(now)) {
    expire();
  }
  if (auto next = deadlines_.next_due()) {
    arm(*next);
  }
}

} // namespace uvm
