#include "hcs/sim/sim_backend.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <mutex>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gojson/go_json.hpp"
#include "hcs/sim/sim_faults.hpp"

namespace uvm::hcs {

namespace {

using std::chrono::microseconds;

// Decorrelates the random streams drawn from one seed.
constexpr uint64_t fault_salt = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t latency_salt = 0xc2b2ae3d27d4eb4fULL;

const char* payload_member(call_kind kind) {
  switch (kind) {
  case call_kind::create:
    return "document";
  case call_kind::modify:
    return "request";
  case call_kind::properties:
    return "query";
  default:
    return nullptr;
  }
}

// Member order of the payload is kept; text that is not JSON is logged as a
// string so the line stays valid.
std::string log_line(const char* call, const std::string& id, const char* member,
                     const std::string& text) {
  nlohmann::ordered_json line;
  line["call"] = call;
  line["id"] = id;
  if (member != nullptr) {
    auto body = nlohmann::ordered_json::parse(text, nullptr, false);
    line[member] = body.is_discarded() ? nlohmann::ordered_json(text) : std::move(body);
  }
  return gojson::go_dump(line);
}

exit_info crash_exit() {
  return {hr::unexpected_exit, hresult_text(hr::unexpected_exit)};
}

} // namespace

struct sim_backend::state {
  state(uint64_t seed, sim_model::clock now)
      : model(seed, std::move(now)), faults(seed ^ fault_salt), latency_rng(seed ^ latency_salt) {}

  mutable std::mutex mutex;
  sim_model model;
  sim_faults faults;
  std::mt19937_64 latency_rng;
  std::array<std::pair<microseconds, microseconds>, call_kind_count> latency{};
  std::array<uint64_t, call_kind_count> received{};
  std::unordered_map<std::string, exit_handler> exit_handlers;
  std::optional<vm_principal> principal;
  // A call or crash armed for an earlier incarnation of an id must not
  // touch a re-created system: what was armed notes the id's generation,
  // which a close changes. Only ids with something armed have an entry
  // (others read 0), so the table does not grow with every id ever closed.
  struct incarnation {
    uint64_t generation = 0;
    uint64_t armed = 0;
  };
  std::unordered_map<std::string, incarnation> incarnations;
  uint64_t closes = 0; // all ids together: a close never reuses a generation
  std::function<void(const std::string&)> call_log;
  // Calls of a held kind wait here (their latency still to run) until
  // the hold ends.
  std::array<bool, call_kind_count> held{};
  struct parked_call {
    call_kind kind;
    microseconds delay;
    std::function<void()> finish;
  };
  std::vector<parked_call> parked;

  // Under the lock: something that checks back (disarm) notes the generation.
  uint64_t arm(const std::string& id) {
    auto& i = incarnations[id];
    ++i.armed;
    return i.generation;
  }
  // Under the lock: whether what arm() returned `armed_in` still holds.
  bool disarm(const std::string& id, uint64_t armed_in) {
    auto it = incarnations.find(id);
    if (it == incarnations.end()) {
      return armed_in == 0;
    }
    bool same = it->second.generation == armed_in;
    if (--it->second.armed == 0) {
      incarnations.erase(it);
    }
    return same;
  }
  // Under the lock: nothing armed before this changes the system any more.
  void closed(const std::string& id) {
    auto it = incarnations.find(id);
    if (it != incarnations.end()) {
      it->second.generation = ++closes;
    }
  }

  exit_handler take_exit_handler(const std::string& id) {
    auto node = exit_handlers.extract(id);
    return node.empty() ? exit_handler{} : std::move(node.mapped());
  }

  // The handler to notify, or empty when nothing crashed.
  exit_handler crash_locked(const std::string& id) {
    return model.crash(id) ? take_exit_handler(id) : exit_handler{};
  }

  microseconds draw_latency(call_kind kind) {
    auto [min, max] = latency[static_cast<std::size_t>(kind)];
    if (max <= min) {
      return min;
    }
    return microseconds(
        std::uniform_int_distribution<int64_t>(min.count(), max.count())(latency_rng));
  }

  // Under the lock: the call's effect on the model; `exited` is the
  // handler to notify once the lock is released.
  call_result apply_locked(call_kind kind, const std::string& id, const std::string& text,
                           bool injected_fault, exit_handler& on_exit, exit_handler& exited) {
    if (injected_fault) {
      return call_result::failure(hr::fail, "injected fault");
    }
    auto result = model.apply(kind, id, text);
    if (result.ok() && kind == call_kind::create && on_exit) {
      exit_handlers[id] = std::move(on_exit);
    }
    if (result.ok() && (kind == call_kind::shutdown || kind == call_kind::terminate)) {
      exited = take_exit_handler(id);
    }
    return result;
  }

  static void answer(call_result result, exit_handler exited, const completion& done) {
    if (done) {
      done(std::move(result));
    }
    if (exited) {
      exited({hr::ok, ""});
    }
  }

  void complete(call_kind kind, const std::string& id, const std::string& text,
                uint64_t received_in, bool injected_fault, exit_handler on_exit,
                const completion& done) {
    call_result result;
    exit_handler exited;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!disarm(id, received_in)) {
        result = call_result::failure(hr::system_not_found,
                                      "compute system " + id + " was closed during the call");
      } else {
        result = apply_locked(kind, id, text, injected_fault, on_exit, exited);
      }
    }
    answer(std::move(result), std::move(exited), done);
  }
};

sim_backend::sim_backend(std::shared_ptr<executor> ex, uint64_t seed, sim_model::clock now)
    : executor_(std::move(ex)), state_(std::make_shared<state>(seed, std::move(now))) {}

sim_backend::~sim_backend() = default;

void sim_backend::create(const std::string& id, std::string document, exit_handler on_exit,
                         completion done) {
  submit(call_kind::create, id, std::move(document), std::move(on_exit), std::move(done));
}

void sim_backend::start(const std::string& id, completion done) {
  submit(call_kind::start, id, {}, {}, std::move(done));
}

void sim_backend::modify(const std::string& id, std::string request, completion done) {
  submit(call_kind::modify, id, std::move(request), {}, std::move(done));
}

void sim_backend::shutdown(const std::string& id, completion done) {
  submit(call_kind::shutdown, id, {}, {}, std::move(done));
}

void sim_backend::terminate(const std::string& id, completion done) {
  submit(call_kind::terminate, id, {}, {}, std::move(done));
}

void sim_backend::properties(const std::string& id, std::string query, completion done) {
  submit(call_kind::properties, id, std::move(query), {}, std::move(done));
}

void sim_backend::submit(call_kind kind, const std::string& id, std::string text,
                         exit_handler on_exit, completion done) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  ++state_->received[static_cast<std::size_t>(kind)];
  if (state_->call_log) {
    state_->call_log(log_line(to_string(kind), id, payload_member(kind), text));
  }
  const auto verdict = state_->faults.on_call(kind, id);
  const auto delay = state_->draw_latency(kind);
  const bool held = state_->held[static_cast<std::size_t>(kind)];
  if (delay.count() == 0 && inline_completions_ && !verdict.crash && !held) {
    // Applied under the lock it was received in: no close can come
    // between, so nothing is armed.
    exit_handler exited;
    auto result = state_->apply_locked(kind, id, text, verdict.fail, on_exit, exited);
    lock.unlock();
    state::answer(std::move(result), std::move(exited), done);
    return;
  }
  const auto generation = state_->arm(id);
  auto crashed = verdict.crash ? state_->crash_locked(id) : exit_handler{};
  if (crashed) {
    state_->arm(id); // the crash's notification checks back too
  }
  if (!held) {
    lock.unlock();
  }
  if (crashed) {
    post_crash_exit(id, generation, std::move(crashed));
  }
  std::function<void()> finish = [weak = std::weak_ptr<state>(state_), kind, id,
                                  text = std::move(text), generation, fail = verdict.fail,
                                  on_exit = std::move(on_exit), done = std::move(done)] {
    if (auto s = weak.lock()) {
      s->complete(kind, id, text, generation, fail, on_exit, done);
    }
  };
  if (held) {
    state_->parked.push_back({kind, delay, std::move(finish)});
    return;
  }
  executor_->post_after(delay, std::move(finish));
}

void sim_backend::hold(call_kind kind, bool on) {
  std::vector<state::parked_call> released;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->held[static_cast<std::size_t>(kind)] = on;
    if (on) {
      return;
    }
    auto& parked = state_->parked;
    auto keep = std::stable_partition(parked.begin(), parked.end(),
                                      [kind](const auto& p) { return p.kind != kind; });
    std::move(keep, parked.end(), std::back_inserter(released));
    parked.erase(keep, parked.end());
  }
  for (auto& p : released) {
    executor_->post_after(p.delay, std::move(p.finish));
  }
}

void sim_backend::post_crash_exit(const std::string& id, uint64_t generation,
                                  exit_handler on_exit) {
  // A close between the crash and the notification suppresses it.
  executor_->post_after(microseconds{0}, [weak = std::weak_ptr<state>(state_), id, generation,
                                          on_exit = std::move(on_exit)] {
    auto s = weak.lock();
    if (!s) {
      return;
    }
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      if (!s->disarm(id, generation)) {
        return;
      }
    }
    on_exit(crash_exit());
  });
}

void sim_backend::close(const std::string& id) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->call_log) {
    state_->call_log(log_line("close", id, nullptr, {}));
  }
  state_->model.close(id);
  state_->exit_handlers.erase(id);
  state_->faults.forget(id);
  state_->closed(id);
  grants_.release_all(id);
}

std::string sim_backend::grant_vm_access(const std::string& id, const std::string& path,
                                         vm_access_type access, bool read_only) {
  std::optional<vm_principal> who;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    who = state_->principal;
  }
  if (!who) {
    return {};
  }
  return grants_.grant(id, path, *who, access, read_only).text;
}

std::string sim_backend::release_vm_access(const std::string& id, const std::string& path) {
  return grants_.release(id, path).text;
}

void sim_backend::set_vm_principal(std::optional<vm_principal> who) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->principal = who;
}

size_t sim_backend::armed_ids() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->incarnations.size();
}

void sim_backend::set_inline_completions(bool on) {
  inline_completions_ = on;
}

void sim_backend::set_latency(call_kind kind, microseconds min, microseconds max) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->latency[static_cast<std::size_t>(kind)] = {min, std::max(min, max)};
}

void sim_backend::fail_next(call_kind kind, uint32_t count, std::string id) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->faults.fail_next(kind, count, std::move(id));
}

void sim_backend::fail_with_probability(call_kind kind, double p) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->faults.fail_with_probability(kind, p);
}

void sim_backend::crash(const std::string& id) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  auto crashed = state_->crash_locked(id);
  const auto generation = crashed ? state_->arm(id) : 0;
  lock.unlock();
  if (crashed) {
    post_crash_exit(id, generation, std::move(crashed));
  }
}

void sim_backend::crash_after_calls(const std::string& id, uint32_t n) {
  if (n == 0) {
    crash(id);
    return;
  }
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->faults.crash_after_calls(id, n);
}

void sim_backend::crash_after(const std::string& id, microseconds delay) {
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    generation = state_->arm(id);
  }
  // Already on the executor when it fires, so the handler runs right there.
  executor_->post_after(delay, [weak = std::weak_ptr<state>(state_), id, generation] {
    auto s = weak.lock();
    if (!s) {
      return;
    }
    exit_handler crashed;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      if (s->disarm(id, generation)) {
        crashed = s->crash_locked(id);
      }
    }
    if (crashed) {
      crashed(crash_exit());
    }
  });
}

void sim_backend::set_call_log(std::function<void(const std::string& json_line)> log) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->call_log = std::move(log);
}

nlohmann::json sim_backend::oracle() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->model.oracle();
}

std::string sim_backend::oracle_json() const {
  return oracle().dump();
}

uint64_t sim_backend::calls_received(call_kind kind) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->received[static_cast<std::size_t>(kind)];
}

} // namespace uvm::hcs
