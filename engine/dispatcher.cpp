#include "engine/dispatcher.hpp"

#include <algorithm>

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

error dispatcher::deadline_exceeded(const std::string& vm_id, const caf::message& call) {
  std::string what = "call";
  if (!call.empty() && call.match_element<caf::atom_value>(0)) {
    what = caf::to_string(call.get_as<caf::atom_value>(0));
  }
  return {errc::deadline_exceeded, "deadline exceeded: " + what + " on utility VM " + vm_id};
}

// One late success being released: its undo calls in order, each retried
// (an undo meets the same faults as any call) until it is done or its VM
// is gone.
struct dispatcher::late_run {
  logging::context ctx;
  caf::actor target;
  caf::message call;
  std::vector<caf::message> undo;
  bool kept = false;
  size_t next = 0;
  uint32_t attempt = 0;
};

void dispatcher::settle_late(const std::string& vm_id, const caf::actor& target,
                             const caf::message& call, const caf::message& reply) {
  auto release = late_undo(call, reply);
  auto run = std::make_shared<late_run>(late_run{{vm_id, {}},
                                                 release.target ? release.target : target,
                                                 call,
                                                 std::move(release.undo),
                                                 release.kept});
  if (run->kept) {
    ++late_->kept;
    logging::warn(run->ctx, "a call succeeded after its caller's deadline: kept",
                  {{"call", caf::to_string(call)}});
  }
  release_next(std::move(run));
}

void dispatcher::release_next(std::shared_ptr<late_run> run) {
  if (run->next == run->undo.size()) {
    if (!run->kept && !run->undo.empty()) {
      ++late_->undone;
      logging::info(run->ctx, "a call succeeded after its caller's deadline: released again",
                    {{"call", caf::to_string(run->call)}});
    }
    return;
  }
  auto& undo = run->undo[run->next];
  auto done = [this, run] {
    ++run->next;
    run->attempt = 0;
    release_next(run);
  };
  if (undo.match_element<forget_process_atom>(0)) {
    send(run->target, undo); // it has no reply
    done();
    return;
  }
  auto failed = [this, run, done](caf::error& ce) {
    auto e = from_caf_error(ce);
    // Gone with its VM, or already: nothing is left to release.
    if (e.code == errc::closed || e.code == errc::vm_exited || e.code == errc::invalid_state ||
        e.code == errc::not_attached || e.code == errc::not_found) {
      done();
      return;
    }
    if (++run->attempt == late_release_attempts) {
      ++late_->kept;
      logging::error(run->ctx,
                     "a call that succeeded after its caller's deadline could not be "
                     "released: kept",
                     {{"call", caf::to_string(run->call)}, {"error", e.text}});
      return;
    }
    logging::warn(
        run->ctx, "releasing a call that succeeded after its caller's deadline failed",
        {{"call", caf::to_string(run->call)}, {"attempt", run->attempt}, {"error", e.text}});
    auto delay = std::chrono::milliseconds{10} * (1u << std::min(run->attempt, 8u));
    delayed_send(this, delay, dispatch_job{[run](caf::event_based_actor* self) {
                   static_cast<dispatcher*>(self)->release_next(run);
                 }});
  };
  if (undo.match_element<signal_process_atom>(0)) {
    request(run->target, caf::infinite, undo).then([done](bool) { done(); }, failed);
  } else {
    request(run->target, caf::infinite, undo).then([done](caf::ok_atom) { done(); }, failed);
  }
}

} // namespace uvm
