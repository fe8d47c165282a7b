// The modify dispatcher (uvm-api.md §4) for the device children of a
// utility VM: the host part of a request goes to HCS, the guest part over
// the GCS bridge child; a guest step that fails after its host step undoes
// the host step, and a removal runs guest first. Also the bookkeeping every
// child needs for it: its HCS calls in flight, the callers it still owes a
// reply (failed at once when the VM exits), and rollbacks being retried.
//
// A child's state has a member `dispatch` of type device_dispatch; its
// behaviour comes from device_behavior, which adds what every child
// answers to the child's own calls.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "actors/core/hcs_errors.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/stub_guest.hpp"
#include "actors/event_bus.hpp"
#include "hcs/device_requests.hpp"
#include "hcs/inline_completion.hpp"
#include "messages/caf/interfaces.hpp"

namespace uvm {

// What a device child knows of its VM.
struct device_env {
  std::string vm_id;
  bool lcow = true;
  // True when the engine runs the GCS bridge itself (LCOW default): guest
  // requests go over the bridge; otherwise HCS forwards them.
  bool external_guest = true;
  std::shared_ptr<hcs::backend> backend;
  gcs_bridge_actor bridge;
  caf::group bus;
  // The guest "stub", asked directly instead of through `bridge` (null for
  // a real guest).
  std::shared_ptr<stub_guest> stub;
};

class device_dispatch {
public:
  using hcs_done = std::function<void(hcs::call_result)>;
  using fail_fn = std::function<void(const caf::error&)>;

  explicit device_dispatch(device_env env) : env_(std::move(env)) {}

  const device_env& env() const { return env_; }

  uint64_t expect_hcs(hcs_done done) {
    auto id = next_++;
    calls_.emplace(id, std::move(done));
    return id;
  }
  void hcs_completed(uint64_t id, hcs::call_result r) {
    auto node = calls_.extract(id);
    if (!node.empty()) {
      node.mapped()(std::move(r));
    }
  }

  // A caller waits for a reply; `fail` answers it if the VM exits first.
  uint64_t owe(fail_fn fail) {
    auto id = next_++;
    owed_.emplace(id, std::move(fail));
    return id;
  }
  void paid(uint64_t id) { owed_.erase(id); }

  // A host add to undo: the request, and what follows once HCS let go.
  uint64_t hold_rollback(std::string request, std::function<void()> after) {
    auto id = next_++;
    rollbacks_.emplace(id, std::make_pair(std::move(request), std::move(after)));
    return id;
  }
  const std::string* rollback_request(uint64_t id) const {
    auto i = rollbacks_.find(id);
    return i == rollbacks_.end() ? nullptr : &i->second.first;
  }
  std::function<void()> rollback_done(uint64_t id) {
    auto node = rollbacks_.extract(id);
    return node.empty() ? std::function<void()>{} : std::move(node.mapped().second);
  }

  // The VM is gone: every caller still waiting learns why; nothing in
  // flight will be heard of again.
  void fail_all(const caf::error& why) {
    auto owed = std::move(owed_);
    owed_.clear();
    for (auto& [id, fail] : owed) {
      fail(why);
    }
    calls_.clear();
    rollbacks_.clear();
  }

private:
  device_env env_;
  uint64_t next_ = 0;
  std::unordered_map<uint64_t, hcs_done> calls_;
  std::unordered_map<uint64_t, fail_fn> owed_;
  std::unordered_map<uint64_t, std::pair<std::string, std::function<void()>>> rollbacks_;
};

// A failed rollback is retried after this, doubling up to the maximum.
constexpr auto device_rollback_first = std::chrono::milliseconds(10);
constexpr auto device_rollback_max = std::chrono::seconds(5);

// Answers a caller once: with a value or an error. Registered as owed, so a
// VM exit answers it first.
template <class T, class Self>
std::function<void(result<T>)> reply_to(Self self, caf::typed_response_promise<T> rp) {
  auto id = self->state.dispatch.owe([rp](const caf::error& e) mutable { rp.deliver(e); });
  return [self, rp, id](result<T> r) mutable {
    self->state.dispatch.paid(id);
    if (r) {
      rp.deliver(std::move(*r));
    } else {
      rp.deliver(to_caf_error(r.err()));
    }
  };
}

template <class Self>
std::function<void(const error&)> reply_ok(Self self,
                                           caf::typed_response_promise<caf::ok_atom> rp) {
  auto id = self->state.dispatch.owe([rp](const caf::error& e) mutable { rp.deliver(e); });
  return [self, rp, id](const error& e) mutable {
    self->state.dispatch.paid(id);
    if (e) {
      rp.deliver(to_caf_error(e));
    } else {
      rp.deliver(caf::ok_atom_v);
    }
  };
}

// Sends `body` to HCS for the child at `to`. A completion inside the call
// (the simulator's inline completions) is returned for the caller to handle
// at once; any other reaches the child as hcs_done(id).
inline std::optional<hcs::call_result> modify_backend(hcs::backend& backend,
                                                      const std::string& vm_id, std::string body,
                                                      caf::actor_addr to, uint64_t id) {
  auto here = std::make_shared<hcs::inline_completion>();
  backend.modify(vm_id, std::move(body), [to = std::move(to), id, here](hcs::call_result r) {
    if (here->keep(r)) {
      return;
    }
    if (auto hdl = caf::actor_cast<caf::actor>(to)) {
      caf::anon_send(hdl, hcs_done_atom_v, id, std::move(r));
    }
  });
  return here->close();
}

// `done` may run before send_host returns (a completion inside the call);
// callers make it their last step.
template <class Self>
void send_host(Self self, std::string body, device_dispatch::hcs_done done) {
  auto& d = self->state.dispatch;
  auto id = d.expect_hcs(std::move(done));
  if (auto r =
          modify_backend(*d.env().backend, d.env().vm_id, std::move(body), self->address(), id)) {
    d.hcs_completed(id, std::move(*r));
  }
}

// `done` may run before send_guest returns (the stub answers inside the
// call): callers make it their last step.
template <class Self>
void send_guest(Self self, std::string guest, const std::string& activity,
                std::function<void(const error&)> done) {
  if (const auto& stub = self->state.dispatch.env().stub) {
    done(stub->modify_settings(guest, activity));
    return;
  }
  // No deadline here: the bridge child answers or ends (which fails the
  // request), RPC deadlines belong to the bridge, and a timeout would cost
  // a wakeup of CAF's clock thread per request.
  self->request(self->state.dispatch.env().bridge, caf::infinite, guest_modify_atom_v,
                std::move(guest), activity)
      .then([done](caf::ok_atom) { done({}); }, [done](caf::error& e) { done(from_caf_error(e)); });
}

template <class Self>
void try_rollback(Self self, uint64_t token, uint32_t attempt) {
  auto& d = self->state.dispatch;
  const auto* request = d.rollback_request(token);
  if (request == nullptr) {
    return;
  }
  send_host(self, *request, [self, token, attempt](hcs::call_result r) {
    auto& d = self->state.dispatch;
    if (r.ok()) {
      if (auto after = d.rollback_done(token)) {
        after();
      }
      return;
    }
    logging::warn({d.env().vm_id, {}}, "failed to roll back resource add",
                  {{"attempt", attempt + 1}, {"error", r.message}});
    auto delay = device_rollback_first * (1u << std::min(attempt, 9u));
    self->delayed_send(self, std::min<caf::timespan>(delay, device_rollback_max), rollback_atom_v,
                       token, attempt + 1);
  });
}

// §4 step 1: no guest part, or HCS owns the guest connection: the request
// goes to HCS whole, and HCS's error is the answer.
template <class Self>
void send_whole(Self self, const hcs::device_request& req, std::function<void(const error&)> done) {
  auto vm_id = self->state.dispatch.env().vm_id;
  auto body = hcs::combined_request(req);
  send_host(self, body, [vm_id, body, done](hcs::call_result r) {
    done(r.ok() ? error{} : hcs_error("System::Modify", vm_id, r, body));
  });
}

// Sends an Add (or any request that is not a Remove) the §4 way. A guest
// failure after a host add waits until HCS has let go of the resource again
// (retrying the undo), so that the engine's view and the host's agree when
// `done` runs.
template <class Self>
void modify_add(Self self, hcs::device_request req, const std::string& activity,
                std::function<void(const error&)> done) {
  const auto& env = self->state.dispatch.env();
  auto vm_id = env.vm_id;
  if (!req.guest || !env.external_guest) {
    send_whole(self, req, done);
    return;
  }
  auto guest = std::move(*req.guest);
  if (!req.host_adds) {
    send_guest(self, guest, activity,
               [done](const error& ge) { done(ge ? wrap("guest modify", ge) : error{}); });
    return;
  }
  auto host = std::move(*req.host);
  send_host(self, host, [=](hcs::call_result r) {
    if (!r.ok()) {
      done(wrap("adding VM resources", hcs_error("System::Modify", vm_id, r, host)));
      return;
    }
    send_guest(self, guest, activity, [=](const error& ge) {
      if (!ge) {
        done({});
        return;
      }
      auto token = self->state.dispatch.hold_rollback(hcs::host_undo(host),
                                                      [=] { done(wrap("guest modify", ge)); });
      try_rollback(self, token, 0);
    });
  });
}

// Sends a Remove the §4 way: the guest lets go first, then the host. When
// the host step fails the resource is still attached, so the guest gets
// `restore` (the guest part of the add) again and agrees with the table.
template <class Self>
void modify_remove(Self self, const hcs::device_request& req, std::optional<std::string> restore,
                   const std::string& activity, std::function<void(const error&)> done) {
  const auto& env = self->state.dispatch.env();
  auto vm_id = env.vm_id;
  if (!req.guest || !env.external_guest) {
    send_whole(self, req, done);
    return;
  }
  auto host = req.host;
  send_guest(self, *req.guest, activity, [=](const error& ge) {
    if (ge) {
      done(wrap("guest modify", ge));
      return;
    }
    if (!host) {
      done({});
      return;
    }
    send_host(self, *host, [=](hcs::call_result r) {
      if (r.ok()) {
        done({});
        return;
      }
      auto e = wrap("removing VM resources", hcs_error("System::Modify", vm_id, r, *host));
      if (!restore) {
        done(e);
        return;
      }
      send_guest(self, *restore, activity, [=](const error& re) {
        if (re) {
          logging::error({vm_id, activity}, "failed to restore the guest after a failed removal",
                         {{"error", re.text}});
        }
        done(e);
      });
    });
  });
}

// A device child's behaviour: its own calls, plus what every child answers:
// its table as JSON (`view`), the VM's exit (every caller still owed a
// reply learns why; `forget` drops the child's own waiting work), HCS
// completions and rollback retries.
template <class Behavior, class Self, class View, class Forget, class... Calls>
Behavior device_behavior(Self self, View view, Forget forget, Calls... calls) {
  return Behavior{
      calls..., [=](view_atom) -> std::string { return view(); },
      [=](vm_exit_atom, const caf::error& why) {
        self->state.dispatch.fail_all(why);
        forget();
        self->quit();
      },
      [=](hcs_done_atom, uint64_t id, hcs::call_result& r) {
        self->state.dispatch.hcs_completed(id, std::move(r));
      },
      [=](rollback_atom, uint64_t token, uint32_t attempt) { try_rollback(self, token, attempt); }};
}

template <class Self>
void publish_device(Self self, const std::string& activity, const char* kind, const char* action,
                    const std::string& host_path, const std::string& where) {
  const auto& env = self->state.dispatch.env();
  publish_event(env.bus,
                [&] { return device_event{env.vm_id, activity, kind, action, host_path, where}; });
}

} // namespace uvm
