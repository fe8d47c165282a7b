// The GCS bridge's container and process calls (uvm-api.md §6, §15,
// gcs-bridge.md §7-§9): each is one RPC on the connection that
// gcs_bridge.cpp owns, plus what the host keeps about processes (their
// exit codes, their stdio) and containers (their exit notification).
#include <filesystem>

#include <nlohmann/json.hpp>

#include "actors/core/logging.hpp"
#include "actors/gcs_bridge_state.hpp"
#include "guest/process_params.hpp"
#include "hcs/backend.hpp"

namespace uvm {

namespace {

std::string lost_after_restart(bridge_pointer self) {
  if (self->state.ctx.restarts == 0) {
    return {};
  }
  return " (utility VM " + self->state.ctx.vm_id +
         " was restarted after an unexpected exit: the processes and containers it ran "
         "before were lost)";
}

// Container shutdown and terminate wait 30 s for the guest (§6).
constexpr std::chrono::seconds container_stop_deadline{30};

std::string activity_or_zero(const std::string& activity) {
  return activity.empty() ? std::string{bridge::zero_guid} : activity;
}

// Calls that need a guest speaking the protocol.
std::optional<error> needs_protocol(bridge_pointer self) {
  auto& st = self->state;
  if (!st.ctx.stub) {
    return std::nullopt;
  }
  if (!st.ctx.external) {
    return error{errc::not_supported,
                 "containers and processes of a utility VM without an external guest connection "
                 "are created by HCS, which the simulated HCS does not do"};
  }
  return error{errc::not_supported, "the stub guest runs no processes (use the in-process "
                                    "guest, exec:CMD or unix:PATH)"};
}

// The metrics op of the guest calls that call() sends.
metrics::call_op op_of(bridge::rpc r) {
  switch (r) {
  case bridge::rpc::create:
    return metrics::call_op::create_container;
  case bridge::rpc::start:
    return metrics::call_op::start_container;
  case bridge::rpc::signal_process:
    return metrics::call_op::signal_process;
  case bridge::rpc::resize_console:
    return metrics::call_op::resize_console;
  default:
    return metrics::call_op::stop_container; // shutdown_graceful, shutdown_forced
  }
}

// One RPC after negotiation whose response becomes the caller's reply.
template <class T, class Convert>
caf::result<T> call(bridge_pointer self, bridge::rpc r, std::string body,
                    std::optional<std::chrono::milliseconds> deadline, Convert convert) {
  if (auto e = needs_protocol(self)) {
    return to_caf_error(*e);
  }
  error busy;
  auto what = "send " + bridge::type_name(bridge::request_type(r)) + " to the guest";
  auto place = admission_place::take(self->state.ctx.admission, what.c_str(), busy);
  if (!place) {
    return to_caf_error(busy);
  }
  metrics::call_timer timer{self->state.ctx.metrics.get(), op_of(r)};
  auto rp = self->make_response_promise<T>();
  when_negotiated(self,
                  [self, r, rp, place, timer, body = std::move(body), deadline, convert]() mutable {
                    send_rpc(
                        self, r, body,
                        [rp, place, timer, convert](result<bridge::response> resp) mutable {
                          if (!resp) {
                            timer.finish(false);
                            rp.deliver(to_caf_error(resp.err()));
                            return;
                          }
                          result<T> out = convert(*resp);
                          timer.finish(static_cast<bool>(out));
                          if (!out) {
                            rp.deliver(to_caf_error(out.err()));
                          } else {
                            rp.deliver(std::move(*out));
                          }
                        },
                        deadline);
                  });
  return rp;
}

result<caf::ok_atom> ok_or_failure(const bridge::response& r) {
  if (!r.ok()) {
    return rpc_failure(r);
  }
  return caf::ok_atom_v;
}

// The guest's capabilities once negotiated; none when the bridge closed first.
bridge::guest_capabilities negotiated_capabilities(bridge_pointer self) {
  auto caps = bridge::parse_capabilities(self->state.capabilities);
  return caps ? *caps : bridge::guest_capabilities{};
}

error make_stdio_dir(gcs_bridge_state& st) {
  if (st.stdio_dir_made) {
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(st.ctx.stdio_dir, ec);
  if (ec) {
    return error{errc::io_failure, "stdio relay folder " + st.ctx.stdio_dir + ": " + ec.message()};
  }
  std::filesystem::permissions(st.ctx.stdio_dir, std::filesystem::perms::owner_all, ec);
  st.stdio_dir_made = true;
  return {};
}

void deliver_exit(guest_process_record& rec, result<uint32_t> outcome) {
  rec.exit = std::move(outcome);
  for (auto& rp : rec.waiters) {
    if (*rec.exit) {
      rp.deliver(**rec.exit);
    } else {
      rp.deliver(to_caf_error(rec.exit->err()));
    }
  }
  rec.waiters.clear();
}

// WaitForProcess goes out as soon as the process started, with no deadline
// (§7.6); its answer is kept for every later wait.
void watch_exit(bridge_pointer self, const std::string& cid, uint32_t pid,
                const std::string& activity) {
  bridge::wait_for_process_request w;
  w.base = {cid, activity};
  w.process_id = pid;
  send_rpc(
      self, bridge::rpc::wait_for_process, bridge::encode(w),
      [self, key = std::make_pair(cid, pid)](result<bridge::response> r) {
        auto it = self->state.processes.find(key);
        if (it == self->state.processes.end()) {
          return; // its handle is gone
        }
        if (!r) {
          deliver_exit(it->second, r.err());
        } else if (!r->ok()) {
          deliver_exit(it->second, rpc_failure(*r));
        } else {
          deliver_exit(it->second, r->exit_code.value_or(0));
        }
      },
      std::nullopt);
}

} // namespace

caf::result<process_started> exec_process(bridge_pointer self, process_request req) {
  auto& st = self->state;
  if (auto e = needs_protocol(self)) {
    return to_caf_error(*e);
  }
  if (st.closed) {
    return to_caf_error(closed_error(*st.closed));
  }
  auto params = nlohmann::json::parse(req.parameters, nullptr, false);
  if (!params.is_object()) {
    return to_caf_error(error{errc::bad_request, "process parameters must be a JSON object"});
  }
  if (auto e = make_stdio_dir(st)) {
    return to_caf_error(e);
  }
  error busy;
  auto place = admission_place::take(st.ctx.admission, "create a process", busy);
  if (!place) {
    return to_caf_error(busy);
  }
  bridge::execute_process_request er;
  er.base = {req.container_id.empty() ? std::string{bridge::zero_guid} : req.container_id,
             activity_or_zero(req.activity_id)};
  er.process_parameters = req.parameters;
  // Listeners first, in the order stdin, stdout, stderr (§7.5); a port is
  // used up even when the RPC fails.
  auto stdio = std::make_shared<bridge::process_stdio>();
  const std::tuple<const char*, std::unique_ptr<bridge::stdio_channel>*, uint32_t*> streams[] = {
      {"CreateStdInPipe", &stdio->in, &er.ports.std_in},
      {"CreateStdOutPipe", &stdio->out, &er.ports.std_out},
      {"CreateStdErrPipe", &stdio->err, &er.ports.std_err},
  };
  for (const auto& [name, channel, port] : streams) {
    if (!guest::flag(params, name)) {
      continue;
    }
    *port = st.next_stdio_port++;
    auto c = bridge::stdio_channel::listen(st.ctx.stdio_dir, *port);
    if (!c) {
      return to_caf_error(c.err());
    }
    *channel = std::move(*c);
  }
  metrics::call_timer timer{st.ctx.metrics.get(), metrics::call_op::exec_process};
  auto rp = self->make_response_promise<process_started>();
  when_negotiated(self, [self, rp, place, timer, stdio, cid = er.base.container_id,
                         activity = er.base.activity_id, body = bridge::encode(er)]() mutable {
    send_rpc(
        self, bridge::rpc::execute_process, body,
        [self, rp, place, timer, stdio, cid, activity](result<bridge::response> r) mutable {
          timer.finish(r && r->ok());
          if (!r || !r->ok()) {
            stdio->close();
            rp.deliver(to_caf_error(r ? rpc_failure(*r) : r.err()));
            return;
          }
          auto pid = r->process_id.value_or(0);
          auto& rec = self->state.processes[{cid, pid}];
          rec = guest_process_record{};
          rec.stdio = stdio;
          watch_exit(self, cid, pid, activity);
          rp.deliver(process_started{cid, pid, stdio});
        },
        self->state.ctx.rpc_timeout);
  });
  return rp;
}

caf::result<uint32_t> wait_process(bridge_pointer self, const std::string& cid, uint32_t pid) {
  auto it = self->state.processes.find({cid, pid});
  if (it == self->state.processes.end()) {
    return to_caf_error(error{errc::not_found, "process " + std::to_string(pid) + " not found" +
                                                   lost_after_restart(self)});
  }
  auto& rec = it->second;
  if (rec.exit) {
    if (!*rec.exit) {
      return to_caf_error(rec.exit->err());
    }
    return **rec.exit;
  }
  rec.waiters.push_back(self->make_response_promise<uint32_t>());
  return rec.waiters.back();
}

caf::result<bool> signal_process(bridge_pointer self, const std::string& cid, uint32_t pid,
                                 int32_t signal, const std::string& activity) {
  bridge::signal_process_request r;
  r.base = {cid, activity_or_zero(activity)};
  r.process_id = pid;
  if (signal != 0) {
    r.signal = signal;
  }
  return call<bool>(self, bridge::rpc::signal_process, bridge::encode(r),
                    self->state.ctx.rpc_timeout, [](const bridge::response& resp) -> result<bool> {
                      if (resp.result == bridge::hresult::not_found) {
                        return false; // not delivered (§7.7)
                      }
                      if (!resp.ok()) {
                        return rpc_failure(resp);
                      }
                      return true;
                    });
}

caf::result<caf::ok_atom> resize_console(bridge_pointer self, const std::string& cid, uint32_t pid,
                                         uint16_t width, uint16_t height,
                                         const std::string& activity) {
  bridge::resize_console_request r;
  r.base = {cid, activity_or_zero(activity)};
  r.process_id = pid;
  r.width = width;
  r.height = height;
  return call<caf::ok_atom>(self, bridge::rpc::resize_console, bridge::encode(r),
                            self->state.ctx.rpc_timeout, ok_or_failure);
}

caf::result<caf::ok_atom> create_container(bridge_pointer self, const std::string& id,
                                           const std::string& config, const std::string& activity) {
  bridge::create_request r;
  r.base = {id, activity_or_zero(activity)};
  r.container_config = config;
  return call<caf::ok_atom>(self, bridge::rpc::create, bridge::encode(r),
                            self->state.ctx.rpc_timeout,
                            [self, id](const bridge::response& resp) -> result<caf::ok_atom> {
                              if (!resp.ok()) {
                                return error{errc::hcs_failure, "failed to create container " + id +
                                                                    ": " + rpc_failure(resp).text};
                              }
                              self->state.containers[id] = guest_container_record{};
                              return caf::ok_atom_v;
                            });
}

caf::result<caf::ok_atom> start_container(bridge_pointer self, const std::string& id,
                                          const std::string& activity) {
  return call<caf::ok_atom>(self, bridge::rpc::start,
                            bridge::encode(bridge::request_base{id, activity_or_zero(activity)}),
                            self->state.ctx.rpc_timeout, ok_or_failure);
}

caf::result<caf::ok_atom> stop_container(bridge_pointer self, const std::string& id, bool forced,
                                         const std::string& activity) {
  auto rpc = forced ? bridge::rpc::shutdown_forced : bridge::rpc::shutdown_graceful;
  return call<caf::ok_atom>(self, rpc,
                            bridge::encode(bridge::request_base{id, activity_or_zero(activity)}),
                            std::chrono::milliseconds{container_stop_deadline},
                            [](const bridge::response& resp) -> result<caf::ok_atom> {
                              // A container that is already gone is stopped.
                              if (resp.result == bridge::hresult::system_not_found) {
                                return caf::ok_atom_v;
                              }
                              return ok_or_failure(resp);
                            });
}

caf::result<caf::ok_atom> wait_container(bridge_pointer self, const std::string& id) {
  auto& st = self->state;
  auto it = st.containers.find(id);
  if (it == st.containers.end()) {
    return to_caf_error(
        error{errc::not_found, "container " + id + " not found" + lost_after_restart(self)});
  }
  // Wait returns when the exit notification came or the bridge is gone (§6).
  if (it->second.exited || st.closed) {
    return caf::ok_atom_v;
  }
  it->second.waiters.push_back(self->make_response_promise<caf::ok_atom>());
  return it->second.waiters.back();
}

caf::result<std::string> dump_stacks(bridge_pointer self, const std::string& activity) {
  auto& st = self->state;
  if (st.ctx.stub) {
    return std::string{}; // no external connection: nothing to ask
  }
  metrics::call_timer timer{st.ctx.metrics.get(), metrics::call_op::dump_stacks};
  auto rp = self->make_response_promise<std::string>();
  when_negotiated(self, [self, rp, timer, activity]() mutable {
    if (!negotiated_capabilities(self).dump_stacks_supported) {
      timer.finish(true);
      rp.deliver(std::string{});
      return;
    }
    send_rpc(
        self, bridge::rpc::dump_stacks,
        bridge::encode(bridge::request_base{bridge::zero_guid, activity_or_zero(activity)}),
        [rp, timer](result<bridge::response> r) mutable {
          timer.finish(r && r->ok());
          if (!r || !r->ok()) {
            rp.deliver(to_caf_error(r ? rpc_failure(*r) : r.err()));
          } else {
            rp.deliver(r->guest_stacks.value_or(""));
          }
        },
        self->state.ctx.rpc_timeout);
  });
  return rp;
}

caf::result<caf::ok_atom> delete_container_state(bridge_pointer self, const std::string& id,
                                                 const std::string& activity) {
  const error unsupported{errc::not_supported,
                          "uvm guest connection does not support deleteContainerState"};
  auto& st = self->state;
  if (st.ctx.stub) {
    return to_caf_error(unsupported);
  }
  metrics::call_timer timer{st.ctx.metrics.get(), metrics::call_op::delete_container_state};
  auto rp = self->make_response_promise<caf::ok_atom>();
  when_negotiated(self, [self, rp, timer, id, activity, unsupported]() mutable {
    if (!negotiated_capabilities(self).delete_container_state_supported) {
      timer.finish(false);
      rp.deliver(
          to_caf_error(self->state.closed ? closed_error(*self->state.closed) : unsupported));
      return;
    }
    send_rpc(
        self, bridge::rpc::delete_container_state,
        bridge::encode(bridge::request_base{id, activity_or_zero(activity)}),
        [self, rp, timer, id](result<bridge::response> r) mutable {
          timer.finish(r && r->ok());
          if (!r || !r->ok()) {
            rp.deliver(to_caf_error(r ? rpc_failure(*r) : r.err()));
          } else {
            self->state.containers.erase(id); // the guest forgot it too
            rp.deliver(caf::ok_atom_v);
          }
        },
        self->state.ctx.rpc_timeout);
  });
  return rp;
}

caf::result<guest_capabilities_info> capabilities(bridge_pointer self) {
  auto info_of = [](uint32_t protocol, const bridge::guest_capabilities& caps) {
    guest_capabilities_info info;
    info.protocol = protocol;
    info.namespace_add_request_supported = caps.namespace_add_request_supported;
    info.signal_process_supported = caps.signal_process_supported;
    info.dump_stacks_supported = caps.dump_stacks_supported;
    info.delete_container_state_supported = caps.delete_container_state_supported;
    info.runtime_os_type = caps.runtime_os_type;
    return info;
  };
  auto& st = self->state;
  if (st.ctx.stub) {
    // HCS holds the guest connection: nothing negotiated here. The stub of
    // an external connection stands in for our agent.
    if (!st.ctx.external) {
      return guest_capabilities_info{};
    }
    auto caps = bridge::parse_capabilities(bridge::linux_capabilities());
    return info_of(bridge::protocol_version, *caps);
  }
  auto rp = self->make_response_promise<guest_capabilities_info>();
  when_negotiated(self, [self, rp, info_of]() mutable {
    if (!self->state.negotiated) {
      rp.deliver(to_caf_error(closed_error(self->state.closed.value_or("not negotiated"))));
      return;
    }
    rp.deliver(info_of(bridge::protocol_version, negotiated_capabilities(self)));
  });
  return rp;
}

void on_container_notification(bridge_pointer self, const bridge::container_notification& n) {
  auto& st = self->state;
  auto it = st.containers.find(n.container_id);
  if (it == st.containers.end() || it->second.exited) {
    close_bridge(self, "bridge notification failed: container " + n.container_id + " not found");
    return;
  }
  it->second.exited = true;
  for (auto& rp : it->second.waiters) {
    rp.deliver(caf::ok_atom_v);
  }
  it->second.waiters.clear();
  logging::info({st.ctx.vm_id, n.activity_id}, "container exited",
                {{"container", n.container_id}, {"type", n.type}});
  if (st.ctx.bus) {
    caf::anon_send(st.ctx.bus,
                   container_event{st.ctx.vm_id, n.container_id, n.activity_id, n.type});
  }
}

void release_guest_waiters(bridge_pointer self, const error& why) {
  auto& st = self->state;
  for (auto& [key, rec] : st.processes) {
    if (!rec.exit) {
      deliver_exit(rec, why);
    }
    if (auto stdio = rec.stdio.lock()) {
      stdio->abort(why.text);
    }
  }
  for (auto& [id, rec] : st.containers) {
    for (auto& rp : rec.waiters) {
      rp.deliver(caf::ok_atom_v);
    }
    rec.waiters.clear();
  }
}

} // namespace uvm
