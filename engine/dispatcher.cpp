#include "engine/dispatcher.hpp"

#include "actors/core/logging.hpp"
#include "engine/late_undo.hpp"
#include "messages/caf/calls.hpp"

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

namespace uvm {

error dispatcher::deadline_exceeded(const std::string& vm_id, const caf::message& call) {
  std::string what = "call";
  if (!call.empty() && call.match_element<caf::atom_value>(0)) {
    what = caf::to_string(call.get_as<caf::atom_value>(0));
  }
  return {errc::deadline_exceeded, "deadline exceeded: " + what + " on utility VM " + vm_id};
}

void dispatcher::settle_late(const std::string& vm_id, const caf::actor& target,
                             const caf::message& call, const caf::message& reply) {
  logging::context ctx{vm_id, {}};
  auto release = late_undo(call, reply);
  if (release.kept) {
    ++late_->kept;
    logging::warn(ctx, "a call succeeded after its caller's deadline: kept",
                  {{"call", caf::to_string(call)}});
  } else if (!release.undo.empty()) {
    ++late_->undone;
    logging::info(ctx, "a call succeeded after its caller's deadline: released again",
                  {{"call", caf::to_string(call)}});
  }
  for (auto& undo : release.undo) {
    if (undo.match_element<forget_process_atom>(0)) {
      send(target, std::move(undo)); // it has no reply
      continue;
    }
    auto failed = [ctx, call](caf::error& e) {
      logging::warn(ctx, "releasing a call that succeeded after its caller's deadline failed",
                    {{"call", caf::to_string(call)}, {"error", from_caf_error(e).text}});
    };
    if (undo.match_element<signal_process_atom>(0)) {
      request(target, caf::infinite, std::move(undo)).then([](bool) {}, failed);
    } else {
      request(target, caf::infinite, std::move(undo)).then([](caf::ok_atom) {}, failed);
    }
  }
}

} // namespace uvm
