// A test's subscriber to an engine's event bus (embedded or connected): it
// keeps what it hears for the test thread to inspect.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "engine/engine.hpp"

namespace uvm::test {

struct event_log {
  std::mutex m;
  std::condition_variable cv;
  std::vector<vm_exited_event> exited;
  std::vector<vm_restart_event> restarts;
  std::vector<vm_started_event> started;
  std::vector<vm_created_event> created;
  std::vector<device_event> devices;

  size_t exited_for(const std::string& id) {
    std::lock_guard<std::mutex> lock{m};
    return std::count_if(exited.begin(), exited.end(),
                         [&](const vm_exited_event& e) { return e.vm_id == id; });
  }
  size_t device_count() {
    std::lock_guard<std::mutex> lock{m};
    return devices.size();
  }
};

inline caf::behavior event_collector(caf::event_based_actor* self, caf::group bus,
                                     std::shared_ptr<event_log> log) {
  self->join(bus);
  self->set_default_handler(caf::drop);
  auto push = [log](auto& vec, auto ev) {
    std::lock_guard<std::mutex> lock{log->m};
    vec.push_back(std::move(ev));
    log->cv.notify_all();
  };
  return {
      [=](const vm_exited_event& e) { push(log->exited, e); },
      [=](const vm_restart_event& e) { push(log->restarts, e); },
      [=](const vm_started_event& e) { push(log->started, e); },
      [=](const vm_created_event& e) { push(log->created, e); },
      [=](const device_event& e) { push(log->devices, e); },
      [](const caf::ok_atom&) -> caf::ok_atom { return caf::ok_atom_v; },
  };
}

// A bus subscriber for the length of a test, listening once constructed;
// it must end before its engine.
class collector {
public:
  explicit collector(engine& eng) : log(std::make_shared<event_log>()) {
    actor_ = eng.system().spawn(event_collector, eng.events(), log);
    // Wait until the join took effect.
    caf::scoped_actor self{eng.system()};
    self->request(actor_, caf::infinite, caf::ok_atom_v)
        .receive([](caf::ok_atom) {}, [](caf::error&) {});
  }
  ~collector() { caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown); }
  collector(const collector&) = delete;
  collector& operator=(const collector&) = delete;

  event_log* operator->() { return log.get(); }

  std::shared_ptr<event_log> log;

private:
  caf::actor actor_;
};

} // namespace uvm::test
