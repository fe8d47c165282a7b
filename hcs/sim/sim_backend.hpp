// The simulated HCS: sim_model behind a mutex, with per-call latency, fault
// injection, guest crashes and a call log. Each call is logged and counted
// when it is received, then applied to the model and completed after its
// latency on the executor; calls overlap (it models HCS, not a lock).
// Completions and exit handlers run on the executor, never inside the
// caller's call, unless set_inline_completions(true) was asked for.
//
// A call that falls due after its system crashed or was closed completes with
// the error the model gives then (e.g. 0xC0370105, or 0xC037010E once
// closed). Destroying the backend drops the completions of calls still in
// flight.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "hcs/backend.hpp"
#include "hcs/executor.hpp"
#include "hcs/sim/sim_model.hpp"
#include "hcs/vm_access.hpp"

namespace uvm::hcs {

class sim_backend : public backend {
public:
  // `seed` drives latencies, probabilistic faults and RuntimeIds; `now` is
  // the model's clock (default: the system clock).
  explicit sim_backend(std::shared_ptr<executor> ex, uint64_t seed = 1, sim_model::clock now = {});
  ~sim_backend() override;

  void create(const std::string& id, std::string document, exit_handler on_exit,
              completion done) override;
  void start(const std::string& id, completion done) override;
  void modify(const std::string& id, std::string request, completion done) override;
  void shutdown(const std::string& id, completion done) override;
  void terminate(const std::string& id, completion done) override;
  void properties(const std::string& id, std::string query, completion done) override;
  void close(const std::string& id) override;
  // Grants for the principal of set_vm_principal; none set: nothing to do.
  std::string grant_vm_access(const std::string& id, const std::string& path, vm_access_type access,
                              bool read_only) override;
  std::string release_vm_access(const std::string& id, const std::string& path) override;

  // Who the simulated systems run as, for their VMAccessType grants (real
  // ACL entries on the host's files). Default none: the simulator's VMs
  // open nothing, so scenarios may name disks that do not exist.
  void set_vm_principal(std::optional<vm_principal> who);

  // Latency of every later call of `kind`: fixed when min == max, else
  // uniform in [min, max]. Default 0 (still completed on the executor).
  void set_latency(call_kind kind, std::chrono::microseconds min, std::chrono::microseconds max);
  // The next `count` calls of `kind` (for `id`, or any system when empty)
  // fail with 0x80004005 "injected fault" and leave the model unchanged.
  void fail_next(call_kind kind, uint32_t count, std::string id = "");
  // Calls with no latency complete inside the call, after the backend's
  // lock is released, instead of on the executor: it saves a thread hop
  // per call (the engine's actors queue such a completion in their
  // completion_inbox). Crash notifications still go through the executor.
  void set_inline_completions(bool on);
  void fail_with_probability(call_kind kind, double p);
  // While `kind` is held its calls are received (faults drawn, logged)
  // but none completes or changes the model; ending the hold lets each
  // parked call of that kind run its latency and complete. A test's
  // stand-in for a backend that stalls.
  void hold(call_kind kind, bool on);
  // The guest crashes now: the system's exit handler gets 0xC0370106.
  void crash(const std::string& id);
  // The guest crashes when the n-th further call for `id` is received (that
  // call is then in flight and fails); n == 0 crashes now.
  void crash_after_calls(const std::string& id, uint32_t n);
  void crash_after(const std::string& id, std::chrono::microseconds delay);

  // One compact JSON line per call received, e.g.
  // {"call":"modify","id":"uvm1","request":{...}}; "document" for create,
  // "query" for properties; start, shutdown, terminate and close carry only
  // "call" and "id". Called under the backend's lock: it must not call back
  // into the backend.
  void set_call_log(std::function<void(const std::string& json_line)> log);

  nlohmann::json oracle() const; // sim_model::oracle
  std::string oracle_json() const;
  uint64_t calls_received(call_kind kind) const;
  // Ids with a call, crash or crash notification armed and not yet
  // delivered: besides its systems, all the simulator keeps per id.
  size_t armed_ids() const;

private:
  struct state;

  void submit(call_kind kind, const std::string& id, std::string text, exit_handler on_exit,
              completion done);
  void post_crash_exit(const std::string& id, uint64_t generation, exit_handler on_exit);

  std::shared_ptr<executor> executor_;
  // Shared with the tasks in flight (they hold it weakly).
  std::shared_ptr<state> state_;
  std::atomic<bool> inline_completions_{false};
  vm_access_table grants_;
};

} // namespace uvm::hcs
