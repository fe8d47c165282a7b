// The engine's dispatcher: the actor that sends the asynchronous calls of
// the embedding API and runs their callbacks. It keeps their deadlines in
// one table swept by one timer (actors/core/deadline_table.hpp) instead
// of a CAF request timeout per call.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include <caf/all.hpp>

#include "actors/core/deadline_table.hpp"
#include "messages/caf/registration.hpp"

namespace uvm {

// A closure for the dispatcher; never leaves the process.
struct dispatch_job {
  std::function<void(caf::event_based_actor*)> run;
};

// The dispatcher's timer: the earliest deadline may have passed.
struct deadline_sweep {};

// Successes that came after their caller's deadline had passed.
struct late_reply_counts {
  std::atomic<uint64_t> undone{0}; // and released again (late_undo.hpp)
  std::atomic<uint64_t> kept{0};   // nothing undoes them, or its undo failed 10 times
};

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::dispatch_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::deadline_sweep)

namespace uvm {

// A class rather than a function: CAF 0.17 binds a reference to a null
// argument tuple when it spawns a function actor without arguments, which
// UBSan rightly rejects.
class dispatcher : public caf::event_based_actor {
public:
  using clock = deadline_table::clock;

  dispatcher(caf::actor_config& cfg, std::shared_ptr<late_reply_counts> late)
      : caf::event_based_actor(cfg), late_(std::move(late)) {}

  caf::behavior make_behavior() override;

  // A call sent without a CAF timeout: `on_expire` runs once `due` passes
  // unless settle(id) comes first (then it never runs).
  uint64_t expect(clock::time_point due, std::function<void()> on_expire) {
    auto id = deadlines_.add(due, std::move(on_expire));
    arm(due);
    return id;
  }
  // True when the call is still pending: its answer is handed on.
  bool settle(uint64_t id) { return deadlines_.settle(id); }

  // Sends `msg` to `target`; `done` gets the reply (a T), the error, or
  // "request timed out" once `due` passes without either.
  template <class T>
  void request_until(const caf::actor& target, clock::time_point due, caf::message msg,
                     std::function<void(result<T>)> done) {
    auto shared = std::make_shared<std::function<void(result<T>)>>(std::move(done));
    auto id = expect(due, [shared] { (*shared)(timed_out()); });
    request(target, caf::infinite, std::move(msg))
        .then(
            [this, id, shared](T& v) {
              if (deadlines_.settle(id)) {
                (*shared)(std::move(v));
              }
            },
            [this, id, shared](caf::error& e) {
              if (deadlines_.settle(id)) {
                (*shared)(from_caf_error(e));
              }
            });
  }

  // A call with the caller's own deadline: past `due`, `done` gets
  // "deadline exceeded" naming the call and the VM; a success that comes
  // later is released again (late_undo.hpp) or kept, and counted.
  template <class T>
  void request_by(const std::string& vm_id, const caf::actor& target, clock::time_point due,
                  caf::message msg, std::function<void(result<T>)> done) {
    auto shared = std::make_shared<std::function<void(result<T>)>>(std::move(done));
    auto id =
        expect(due, [shared, expired = deadline_exceeded(vm_id, msg)] { (*shared)(expired); });
    request(target, caf::infinite, msg)
        .then(
            [this, id, shared, vm_id, target, msg](T& v) {
              if (deadlines_.settle(id)) {
                (*shared)(std::move(v));
              } else {
                settle_late(vm_id, target, msg, caf::make_message(std::move(v)));
              }
            },
            [this, id, shared](caf::error& e) {
              if (deadlines_.settle(id)) {
                (*shared)(from_caf_error(e));
              }
            });
  }

  // The calls of engine/call.hpp, answered with `Ts...`: `done` gets them,
  // the error, or `expired` once `due` passes (none: no deadline); a
  // success that comes after `due` is released again (late_undo.hpp) or
  // kept, and counted.
  template <class... Ts>
  void call(const std::string& vm_id, const caf::actor& target,
            std::optional<clock::time_point> due, error expired, caf::message msg,
            std::function<void(result<std::tuple<Ts...>>)> done) {
    auto shared = std::make_shared<std::function<void(result<std::tuple<Ts...>>)>>(std::move(done));
    std::optional<uint64_t> id;
    if (due) {
      id = expect(*due, [shared, expired = std::move(expired)] { (*shared)(expired); });
    }
    request(target, caf::infinite, msg)
        .then(
            [this, id, shared, vm_id, target, msg](Ts&... xs) {
              if (!id || deadlines_.settle(*id)) {
                (*shared)(std::make_tuple(std::move(xs)...));
              } else {
                settle_late(vm_id, target, msg, caf::make_message(std::move(xs)...));
              }
            },
            [this, id, shared](caf::error& e) {
              if (!id || deadlines_.settle(*id)) {
                (*shared)(from_caf_error(e));
              }
            });
  }

  size_t calls_pending() const { return deadlines_.size(); }
  // What a call gets when its deadline passes (the text of CAF's own
  // request timeout, which the blocking forms give).
  static error timed_out() { return error{errc::internal, "request timed out"}; }
  // "deadline exceeded: add_scsi on utility VM vm1".
  static error deadline_exceeded(const std::string& vm_id, const caf::message& call);

private:
  // A success past its deadline: sends what undoes it, or keeps it.
  struct late_run;
  static constexpr uint32_t late_release_attempts = 10;
  void release_next(std::shared_ptr<late_run> run);
  void settle_late(const std::string& vm_id, const caf::actor& target, const caf::message& call,
                   const caf::message& reply);
  // Makes sure a sweep comes at `due` or earlier.
  void arm(clock::time_point due);
  void sweep();

  deadline_table deadlines_;
  std::optional<clock::time_point> armed_;
  std::shared_ptr<late_reply_counts> late_;
};

} // namespace uvm
