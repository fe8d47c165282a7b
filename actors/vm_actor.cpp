#include "actors/vm_actor.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/core/hcs_errors.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/vm_stats.hpp"
#include "actors/vm_routes.hpp"
#include "actors/vm_state.hpp"
#include "hcs/device_requests.hpp"
#include "hcs/guid.hpp"

namespace uvm {

namespace {

std::string activity_or_new(const std::string& activity) {
  return activity.empty() ? hcs::new_guid() : activity;
}

logging::context log_ctx(vm_pointer self, const std::string& activity) {
  return {self->state.plan.id, activity};
}

// Terminate and Shutdown treat "already stopped", "does not exist" and
// "pending" as success (hcs-schema.md §2.4).
bool stop_result_ok(const hcs::call_result& r) {
  return r.ok() || r.hresult == hcs::hr::already_stopped ||
         r.hresult == hcs::hr::system_not_found || r.hresult == hcs::hr::operation_pending;
}

vm_info make_info(vm_pointer self) {
  auto& st = self->state;
  vm_info info;
  info.id = st.plan.id;
  info.owner = st.plan.owner;
  info.os = st.plan.os;
  info.processor_count = st.processor_count;
  info.memory_size_in_mb = st.memory_size_in_mb;
  info.is_oci = false;
  info.runtime_id = st.runtime_id;
  info.state = st.life.state();
  info.restarts = st.life.restarts();
  if (st.admission) {
    info.calls_outstanding = st.admission->outstanding();
    info.busy_refusals = st.admission->refused();
  }
  return info;
}

// Issues one backend call; its completion comes back through the inbox.
// If the system exits first, `on_abort` answers instead.
void call_backend(vm_pointer self, std::function<void(hcs::backend&, hcs::completion)> issue,
                  std::function<void(hcs::call_result)> on_done,
                  std::function<void(const error&)> on_abort) {
  auto& st = self->state;
  auto id = st.next_call++;
  st.aborts.emplace(id, std::move(on_abort));
  issue(*st.env.backend, st.inbox->expect<hcs::call_result>(
                             [self, id, on_done = std::move(on_done)](hcs::call_result r) {
                               if (self->state.aborts.erase(id) > 0) {
                                 on_done(std::move(r));
                               }
                             }));
}

void publish(vm_pointer self, caf::message msg) {
  if (self->state.env.bus) {
    caf::anon_send(self->state.env.bus, std::move(msg));
  }
}

// A Wait on the exit of the system of `generation` returns once that
// system's guest log has been read to its end.
void answer_after_output(vm_pointer self, uint64_t generation,
                         caf::typed_response_promise<caf::ok_atom> rp) {
  if (self->state.output_open.count(generation) == 0) {
    rp.deliver(caf::ok_atom_v);
    return;
  }
  self->state.output_waiters.emplace_back(generation, std::move(rp));
}

// `generation` only, or every one (Close).
void output_finished(vm_pointer self, std::optional<uint64_t> generation) {
  auto& st = self->state;
  if (generation) {
    st.output_open.erase(*generation);
  } else {
    st.output_open.clear();
  }
  auto waiting = std::move(st.output_waiters);
  st.output_waiters.clear();
  for (auto& [gen, rp] : waiting) {
    if (st.output_open.count(gen) == 0) {
      rp.deliver(caf::ok_atom_v);
    } else {
      st.output_waiters.emplace_back(gen, std::move(rp));
    }
  }
}

// The exit of the current system, expected or not.
void handle_exit(vm_pointer self, const hcs::exit_info& info) {
  auto& st = self->state;
  bool unexpected = info.hresult != hcs::hr::ok || !st.bridge_lost.empty();
  // The backend's account of an unexpected exit names the cause (e.g. the
  // VM process was killed); a lost bridge is the symptom.
  auto text = "hcsshim::System::waitBackground " + st.plan.id + ": " +
              (info.hresult != hcs::hr::ok && !info.message.empty() ? info.message
               : !st.bridge_lost.empty() ? "bridge closed: " + st.bridge_lost
               : info.message.empty()    ? hcs::hresult_text(info.hresult)
                                         : info.message);
  st.bridge_lost.clear();
  st.life.on_exit(unexpected, text);
  // Calls that waited on a restore are answered with the exit, before the
  // bridge ends (an actor that ends drops what waits in its mailbox).
  release_calls(self);
  bool crashed = st.life.state() == lifecycle_state::exited;
  auto activity = st.exit_activity.empty() ? hcs::new_guid() : st.exit_activity;
  error why = crashed ? st.life.exited_error()
                      : error{errc::invalid_state, "utility VM " + st.plan.id + " stopped"};
  if (crashed) {
    logging::error(log_ctx(self, activity), "utility VM exited unexpectedly",
                   {{"exit_error", text}});
  } else {
    logging::info(log_ctx(self, activity), "utility VM stopped");
  }
  // Nothing that was waiting on this system can complete any more.
  auto aborts = std::move(st.aborts);
  st.aborts.clear();
  for (auto& [id, abort] : aborts) {
    abort(why);
  }
  // A VM its policy may restart keeps its devices for the next system.
  if (crashed && st.spec.policy.kind != restart_kind::never) {
    hold_children(self, why);
  } else {
    stop_children(self, why);
  }
  for (auto& w : st.waiters) {
    answer_after_output(self, st.generation, std::move(w));
  }
  st.waiters.clear();
  auto stopped = std::move(st.on_stopped);
  st.on_stopped.clear();
  for (auto& f : stopped) {
    f();
  }
  publish(self, caf::make_message(vm_exited_event{st.plan.id, activity, crashed,
                                                  crashed ? text : std::string{}}));
  self->send(st.env.supervisor,
             vm_exit_report{st.plan.id, crashed, crashed ? text : std::string{}, activity});
}

// Creates the compute system for the current plan; `done` gets the error
// or nothing.
void create_system(vm_pointer self, const std::string& activity,
                   std::function<void(const error&)> done) {
  auto& st = self->state;
  auto id = st.plan.id;
  auto gen = ++st.generation;
  auto addr = self->address();
  hcs::exit_handler on_exit = [addr, gen](hcs::exit_info info) {
    if (auto me = caf::actor_cast<caf::actor>(addr)) {
      caf::send_as(me, me, hcs_exit_report{gen, std::move(info)});
    }
  };
  auto document = st.plan.document;
  call_backend(
      self,
      [id, document, on_exit](hcs::backend& b, hcs::completion c) {
        b.create(id, document, on_exit, std::move(c));
      },
      [self, id, document, activity, done](hcs::call_result r) {
        if (!r.ok()) {
          done(hcs_error("CreateComputeSystem", id, r, document));
          return;
        }
        // The runtime id comes from the v1 properties (uvm-api.md §5.4).
        call_backend(
            self,
            [id](hcs::backend& b, hcs::completion c) { b.properties(id, "{}", std::move(c)); },
            [self, id, activity, done](hcs::call_result p) {
              if (!p.ok()) {
                self->state.env.backend->terminate(id, [](hcs::call_result) {});
                done(hcs_error("System::Properties", id, p));
                return;
              }
              auto props = nlohmann::json::parse(p.payload, nullptr, false);
              if (props.is_object() && props.contains("RuntimeId")) {
                self->state.runtime_id = props["RuntimeId"].get<std::string>();
              }
              self->state.memory_size_in_mb = self->state.plan.memory_size_in_mb;
              self->state.processor_count = self->state.plan.processor_count;
              spawn_children(self);
              logging::info(log_ctx(self, activity), "utility VM created",
                            {{"os", self->state.plan.os}});
              publish(self, caf::make_message(vm_created_event{id, activity, self->state.plan.os,
                                                               self->state.life.restarts()}));
              done({});
            },
            done);
      },
      done);
}

// The system runs and the VM counts as running.
void mark_started(vm_pointer self, const std::string& activity) {
  self->state.life.start_succeeded();
  logging::info(log_ctx(self, activity), "utility VM started");
  publish(self, caf::make_message(
                    vm_started_event{self->state.plan.id, activity, self->state.life.restarts()}));
}

// After begin_start. `prepare` (may be empty) runs once the VM counts as
// running (calls made meanwhile wait on the guest like any other); its
// error goes to `done`, unless the VM stopped or exited first.
void start_system(vm_pointer self, const std::string& activity,
                  std::function<void(const error&)> done,
                  std::function<void(std::function<void(const error&)>)> prepare = {}) {
  auto id = self->state.plan.id;
  call_backend(
      self, [id](hcs::backend& b, hcs::completion c) { b.start(id, std::move(c)); },
      [self, id, activity, done, prepare](hcs::call_result r) {
        if (!r.ok()) {
          self->state.life.start_failed();
          done(hcs_error("System::Start", id, r));
          return;
        }
        mark_started(self, activity);
        if (!prepare) {
          done({});
          return;
        }
        auto gen = self->state.generation;
        prepare([self, done, gen](const error& e) {
          if (self->state.generation == gen &&
              self->state.life.state() == lifecycle_state::running) {
            done(e);
          }
        });
      },
      [self, done](const error& e) {
        self->state.life.start_failed();
        done(e);
      });
}

// Terminate or Shutdown; does not wait for the exit.
void stop_system(vm_pointer self, bool forced, const std::string& activity,
                 std::function<void(const error&)> done) {
  if (!self->state.life.begin_stop()) {
    done({});
    return;
  }
  release_calls(self); // calls that waited on a restore are refused: the VM is stopping
  self->state.exit_activity = activity;
  auto id = self->state.plan.id;
  call_backend(
      self,
      [id, forced](hcs::backend& b, hcs::completion c) {
        if (forced) {
          b.terminate(id, std::move(c));
        } else {
          b.shutdown(id, std::move(c));
        }
      },
      [id, forced, done](hcs::call_result r) {
        done(stop_result_ok(r)
                 ? error{}
                 : hcs_error(forced ? "System::Terminate" : "System::Shutdown", id, r));
      },
      // The system exited while the call was in flight: it is stopped.
      [done](const error&) { done({}); });
}

void finish_close(vm_pointer self, const std::string& activity) {
  auto& st = self->state;
  st.env.backend->close(st.plan.id);
  st.life.close();
  stop_children(self, error{errc::invalid_state, "utility VM " + st.plan.id + " closed"});
  // Close does not wait for the guest's log (its reader is cut within
  // bridge::log_grace); nor does a Wait any more.
  output_finished(self, std::nullopt);
  logging::info(log_ctx(self, activity), "utility VM closed");
  publish(self, caf::make_message(vm_closed_event{st.plan.id, activity}));
  self->send(st.env.registry, vm_closed_report{st.plan.id});
}

// Re-creates the system after an unexpected exit (supervisor restart),
// and starts it again if it had been started.
void restart_system(vm_pointer self) {
  auto& st = self->state;
  if (st.life.state() != lifecycle_state::exited) {
    return;
  }
  auto activity = hcs::new_guid();
  st.env.backend->close(st.plan.id);
  bool start_again = st.life.was_started();
  st.life.restart();
  // No half-restored VM: callers' calls wait until every device is back.
  st.life.hold_calls(start_again && st.held);
  auto failed = [self, activity](const error& e) {
    auto& st = self->state;
    logging::error(log_ctx(self, activity), "utility VM restart failed", {{"error", e.text}});
    // Exited first: the calls left waiting are answered with this error.
    st.life.on_exit(true, e.text);
    release_calls(self);
    if (st.children) {
      // The new system goes (its exit is not this VM's any more) and the
      // devices wait for the next attempt.
      ++st.generation;
      st.env.backend->terminate(st.plan.id, [](hcs::call_result) {});
      hold_children(self, e);
    }
    self->send(st.env.supervisor, vm_exit_report{st.plan.id, true, e.text, activity});
  };
  create_system(self, activity, [self, activity, start_again, failed](const error& e) {
    if (e) {
      failed(e);
      return;
    }
    // A VM never started had no devices to restore.
    if (!start_again || self->state.life.begin_start()) {
      return;
    }
    start_system(
        self, activity,
        [failed](const error& se) {
          if (se) {
            failed(se);
          }
        },
        [self](std::function<void(const error&)> restored) {
          restore_children(self, [self, restored](const error& e) {
            if (!e) {
              release_calls(self);
            }
            restored(e);
          });
        });
  });
}

// Changes the running system's compute topology with one host-only
// modify request (hcs::memory_update and the like); HCS's error comes back
// as the modify dispatcher gives it (uvm-api.md §4, step 1).
void update_topology(vm_pointer self, const char* what, std::string request,
                     std::function<void(const error&)> done) {
  if (auto e = self->state.life.check_running(what)) {
    done(e);
    return;
  }
  auto id = self->state.plan.id;
  call_backend(
      self,
      [id, request](hcs::backend& b, hcs::completion c) { b.modify(id, request, std::move(c)); },
      [id, request, done](hcs::call_result r) {
        done(r.ok() ? error{} : hcs_error("System::Modify", id, r, request));
      },
      done);
}

// The processor count first (HCS refuses it, QEMU adds or removes
// processors), then the limits; a request for neither still sends the
// limits, as hcsshim does.
void update_cpu(vm_pointer self, const cpu_limits& asked, std::function<void(const error&)> done) {
  hcs::processor_limits limits;
  limits.limit = asked.limit;
  limits.weight = asked.weight;
  limits.reservation = asked.reservation;
  limits.maximum_frequency_mhz = asked.maximum_frequency_mhz;
  bool any_limit = limits.limit != 0 || limits.weight != 0 || limits.reservation != 0 ||
                   limits.maximum_frequency_mhz != 0;
  auto send_limits = [self, limits, done] {
    update_topology(self, "update its processor limits", *hcs::processor_limits_update(limits).host,
                    done);
  };
  if (asked.count == 0) {
    send_limits();
    return;
  }
  update_topology(
      self, "change its processor count", *hcs::processor_count_update(asked.count).host,
      [self, count = asked.count, send_limits, any_limit, done](const error& e) {
        if (!e) {
          self->state.processor_count =
              static_cast<int32_t>(std::min<uint64_t>(count, std::numeric_limits<int32_t>::max()));
        }
        if (e || !any_limit) {
          done(e);
          return;
        }
        send_limits();
      });
}

// The plan (validation, normalisation, document) for this VM's options.
result<hcs::create_plan> make_plan(vm_pointer self) {
  auto& st = self->state;
  auto plan = st.spec.lcow ? hcs::plan_lcow(st.spec.lcow_options, st.env.host, st.env.fs)
                           : hcs::plan_wcow(st.spec.wcow_options, st.env.host, st.env.fs);
  if (plan) {
    // Like hcsshim, a generated id is written back into the options, so a
    // re-creation uses the same id.
    st.spec.lcow_options.common.id = plan->id;
    st.spec.wcow_options.common.id = plan->id;
  }
  return plan;
}

vm_actor::behavior_type vm_behavior(vm_pointer self, vm_env env, vm_spec spec) {
  auto& st = self->state;
  st.env = std::move(env);
  st.spec = std::move(spec);
  st.inbox.emplace(
      [addr = self->address()](uint64_t id) {
        if (auto me = caf::actor_cast<caf::actor>(addr)) {
          caf::send_as(me, me, inbox_ready{id});
        }
      },
      [self](std::chrono::milliseconds delay, uint64_t id) {
        self->delayed_send(self, delay, inbox_ready{id});
      });
  return std::apply(
      [self](auto... routed) -> vm_actor::behavior_type {
        return {
            [=](const vm_create_request& req) -> caf::result<vm_info> {
              if (!from_owner(self, self->state.env.registry.address(), "vm_create_request")) {
                return to_caf_error(error{errc::bad_request, "only the registry creates a VM"});
              }
              auto activity = activity_or_new(req.activity);
              auto plan = make_plan(self);
              if (!plan) {
                self->quit();
                return to_caf_error(plan.err());
              }
              self->state.plan = std::move(*plan);
              self->state.life = vm_lifecycle{self->state.plan.id};
              self->state.admission = std::make_shared<vm_admission>(
                  self->state.plan.id, self->state.env.vm_call_limit, self->state.env.admission);
              const auto& common = self->state.spec.lcow ? self->state.spec.lcow_options.common
                                                         : self->state.spec.wcow_options.common;
              self->state.life.track(
                  self->state.env.metrics.get(),
                  metrics::backend_from_name(
                      common.backend.empty() ? self->state.env.default_backend : common.backend));
              for (const auto& w : self->state.plan.warnings) {
                logging::warn(log_ctx(self, activity), w);
              }
              auto rp = self->make_response_promise<vm_info>();
              create_system(self, activity, [self, rp](const error& e) mutable {
                if (e) {
                  rp.deliver(to_caf_error(e));
                  self->quit();
                  return;
                }
                // Sent before anyone can see the VM, so the supervisor knows it
                // before any exit of it (messages from one sender stay in order).
                self->send(self->state.env.supervisor,
                           vm_watch_request{caf::actor_cast<utility_vm_actor>(self),
                                            self->state.plan.id, self->state.spec.policy});
                rp.deliver(make_info(self));
              });
              return rp;
            },
            [=](start_atom, const std::string& activity_in) -> caf::result<caf::ok_atom> {
              auto activity = activity_or_new(activity_in);
              metrics::call_timer timer{self->state.env.metrics.get(), metrics::call_op::start};
              if (auto e = self->state.life.begin_start()) {
                timer.finish(false);
                return to_caf_error(e);
              }
              auto rp = self->make_response_promise<caf::ok_atom>();
              start_system(self, activity, [rp, timer](const error& e) mutable {
                timer.finish(!e);
                e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
              });
              return rp;
            },
            [=](wait_atom) -> caf::result<caf::ok_atom> {
              auto& st = self->state;
              if (st.life.state() == lifecycle_state::closed) {
                return caf::ok_atom_v;
              }
              auto rp = self->make_response_promise<caf::ok_atom>();
              if (st.life.has_exited()) {
                answer_after_output(self, st.generation, rp);
              } else {
                st.waiters.push_back(rp);
              }
              return rp;
            },
            [=](terminate_atom, const std::string& activity) -> caf::result<caf::ok_atom> {
              metrics::call_timer timer{self->state.env.metrics.get(), metrics::call_op::terminate};
              auto rp = self->make_response_promise<caf::ok_atom>();
              stop_system(self, true, activity_or_new(activity),
                          [rp, timer](const error& e) mutable {
                            timer.finish(!e);
                            e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
                          });
              return rp;
            },
            [=](shutdown_atom, const std::string& activity) -> caf::result<caf::ok_atom> {
              metrics::call_timer timer{self->state.env.metrics.get(), metrics::call_op::shutdown};
              auto rp = self->make_response_promise<caf::ok_atom>();
              stop_system(self, false, activity_or_new(activity),
                          [rp, timer](const error& e) mutable {
                            timer.finish(!e);
                            e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
                          });
              return rp;
            },
            [=](close_atom, const std::string& activity_in) -> caf::result<caf::ok_atom> {
              auto activity = activity_or_new(activity_in);
              auto rp = self->make_response_promise<caf::ok_atom>();
              metrics::call_timer timer{self->state.env.metrics.get(), metrics::call_op::close};
              auto done = [self, rp, activity, timer]() mutable {
                if (self->state.life.state() != lifecycle_state::closed) {
                  finish_close(self, activity);
                }
                timer.finish(true);
                rp.deliver(caf::ok_atom_v);
                self->quit();
              };
              if (self->state.life.has_exited()) {
                done();
                return rp;
              }
              // Close = terminate, wait for the exit, release the handle. If the
              // terminate itself fails there is no exit to wait for.
              self->state.on_stopped.push_back(done);
              stop_system(self, true, activity, [self, activity](const error& e) {
                if (e) {
                  logging::warn(log_ctx(self, activity), "terminate during close failed",
                                {{"error", e.text}});
                  auto stopped = std::move(self->state.on_stopped);
                  self->state.on_stopped.clear();
                  for (auto& f : stopped) {
                    f();
                  }
                }
              });
              return rp;
            },
            [=](exit_err_atom) -> caf::result<caf::ok_atom> {
              if (auto e = self->state.life.exit_error()) {
                return to_caf_error(e);
              }
              return caf::ok_atom_v;
            },
            [=](info_atom) -> vm_info { return make_info(self); },
            [=](stats_atom, const std::string& activity) -> caf::result<vm_stats> {
              (void)activity;
              // After an exit there is no system to ask; say why at once.
              auto state = self->state.life.state();
              if (state == lifecycle_state::exited) {
                return to_caf_error(self->state.life.exited_error());
              }
              if (state == lifecycle_state::stopped) {
                return to_caf_error(self->state.life.check_running("report stats"));
              }
              auto id = self->state.plan.id;
              auto rp = self->make_response_promise<vm_stats>();
              call_backend(
                  self,
                  [id](hcs::backend& b, hcs::completion c) {
                    b.properties(id, R"({"PropertyTypes":["Statistics","Memory"]})", std::move(c));
                  },
                  [rp, id](hcs::call_result r) mutable {
                    if (!r.ok()) {
                      rp.deliver(to_caf_error(hcs_error("System::PropertiesV2", id, r)));
                      return;
                    }
                    rp.deliver(parse_vm_stats(r.payload));
                  },
                  [rp](const error& e) mutable { rp.deliver(to_caf_error(e)); });
              return rp;
            },
            [=](update_memory_atom, uint64_t bytes,
                const std::string& activity) -> caf::result<caf::ok_atom> {
              auto size = hcs::normalize_memory(bytes);
              if (!size.warning.empty()) {
                logging::warn(log_ctx(self, activity_or_new(activity)), size.warning);
              }
              auto rp = self->make_response_promise<caf::ok_atom>();
              update_topology(self, "update its memory", *hcs::memory_update(size.size_in_mb).host,
                              [self, rp, mb = size.size_in_mb](const error& e) mutable {
                                if (e) {
                                  rp.deliver(to_caf_error(e));
                                  return;
                                }
                                self->state.memory_size_in_mb = static_cast<int32_t>(
                                    std::min<uint64_t>(mb, std::numeric_limits<int32_t>::max()));
                                rp.deliver(caf::ok_atom_v);
                              });
              return rp;
            },
            [=](update_cpu_atom, const cpu_limits& limits,
                const std::string& activity) -> caf::result<caf::ok_atom> {
              (void)activity;
              auto rp = self->make_response_promise<caf::ok_atom>();
              update_cpu(self, limits, [rp](const error& e) mutable {
                e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
              });
              return rp;
            },
            [=](counter_atom, counter_kind kind) -> uint64_t {
              return kind == counter_kind::container ? ++self->state.container_counter
                                                     : ++self->state.mount_counter;
            },
            [=](children_atom) -> std::vector<caf::actor_addr> {
              std::vector<caf::actor_addr> out;
              if (self->state.children) {
                for (auto& [name, child] : all_children(self)) {
                  out.push_back(child.address());
                }
              }
              return out;
            },
            [=](view_atom) { return children_view(self); },
            [=](devices_atom) -> caf::result<vm_devices> {
              if (auto e = self->state.life.check_running("hand out its devices")) {
                return to_caf_error(e);
              }
              return devices_of(self);
            },
            [=](guest_fail_atom, uint32_t count) {
              if (self->state.children) {
                self->send(self->state.children->bridge, guest_fail_atom_v, count);
              }
            },
            [=](const bridge_lost& lost) {
              auto& st = self->state;
              if (!st.children || !from_owner(self, st.children->bridge.address(), "bridge_lost")) {
                return;
              }
              if (st.life.state() != lifecycle_state::running || !st.bridge_lost.empty()) {
                return;
              }
              // Without its guest the VM can do nothing more: it is stopped, and
              // its exit is reported as unexpected, naming the cause.
              st.bridge_lost = lost.cause;
              auto id = st.plan.id;
              call_backend(
                  self, [id](hcs::backend& b, hcs::completion c) { b.terminate(id, std::move(c)); },
                  [](hcs::call_result) {}, [](const error&) {});
            },
            [=](mailbox_depth_request) -> caf::result<uint64_t> {
              // Its own mailbox and its children's: callers may address them
              // directly, so their backlog is the VM's too.
              uint64_t own = self->mailbox().size();
              if (!self->state.children) {
                return own;
              }
              auto children = self->state.children->spawned();
              auto rp = self->make_response_promise<uint64_t>();
              auto total = std::make_shared<uint64_t>(own);
              auto left = std::make_shared<size_t>(children.size());
              for (auto& [name, child] : children) {
                self->request(child, std::chrono::seconds(1), mailbox_depth_request{})
                    .then(
                        [rp, total, left](uint64_t depth) mutable {
                          *total += depth;
                          if (--*left == 0) {
                            rp.deliver(*total);
                          }
                        },
                        [rp, total, left](caf::error&) mutable {
                          if (--*left == 0) {
                            rp.deliver(*total);
                          }
                        });
              }
              return rp;
            },
            [=](vm_restart_request) {
              if (from_owner(self, self->state.env.supervisor.address(), "vm_restart_request")) {
                restart_system(self);
              }
            },
            [=](inbox_ready msg) {
              if (from_owner(self, self->address(), "inbox_ready")) {
                self->state.inbox->deliver(msg.id);
              }
            },
            [=](const guest_output_done& done) {
              if (from_owner(self, self->address(), "guest_output_done")) {
                output_finished(self, done.generation);
              }
            },
            [=](const hcs_exit_report& report) {
              if (from_owner(self, self->address(), "hcs_exit_report") &&
                  report.generation == self->state.generation) {
                handle_exit(self, report.info);
              }
            },
            routed...};
      },
      routed_calls(self));
}

} // namespace

vm_actor spawn_vm_actor(caf::local_actor* parent, vm_env env, vm_spec spec) {
  return parent->spawn(vm_behavior, std::move(env), std::move(spec));
}

} // namespace uvm
