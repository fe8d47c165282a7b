#include "actors/gcs_bridge.hpp"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "actors/core/guest_log.hpp"
#include "actors/core/logging.hpp"
#include "actors/gcs_bridge_state.hpp"
#include "guest/connection.hpp"
#include "hcs/device_requests.hpp"

namespace uvm {

gcs_bridge_state::~gcs_bridge_state() {
  if (sweep) {
    ctx.sweeps->cancel(sweep);
  }
  if (link) {
    link->shut();
  }
  if (guest_log) {
    // What the guest wrote before it ended is still on its way.
    guest_log->finish_within(bridge::log_grace);
  }
  if (stdio_dir_made) {
    std::error_code ignored;
    std::filesystem::remove_all(ctx.stdio_dir, ignored);
  }
}

error closed_error(const std::string& cause) {
  return error{errc::hcs_failure, "bridge closed: " + cause};
}

error rpc_failure(const bridge::response& r) {
  auto why = r.error_message.empty() ? hcs::hresult_text(r.result) : r.error_message;
  return error{errc::hcs_failure, "guest RPC failure: " + why};
}

namespace {

// The agent's log level: the engine logger's, as hcsshim passes its own
// level to the GCS (-loglevel).
guest::log_level agent_log_level() {
  switch (logging::current_level()) {
  case logging::level::trace:
    return guest::log_level::trace;
  case logging::level::debug:
    return guest::log_level::debug;
  case logging::level::info:
    return guest::log_level::info;
  case logging::level::warn:
    return guest::log_level::warning;
  case logging::level::error:
    return guest::log_level::error;
  case logging::level::off:
    break;
  }
  return guest::log_level::panic;
}

// Reads the host's end of the connection on the I/O loop: frames and the
// end of the stream become messages, sent as the bridge itself (the only
// sender its internal handlers accept).
struct stream_reader {
  caf::actor_addr bridge;
  bridge::frame_decoder decoder;
  template <class Message>
  void tell(Message msg) const {
    if (auto me = caf::actor_cast<caf::actor>(bridge)) {
      caf::send_as(me, me, std::move(msg));
    }
  }
};

void start_reading(bridge_pointer self) {
  auto r = std::make_shared<stream_reader>(stream_reader{self->address(), bridge::frame_decoder{}});
  self->state.link->stream().start(
      {[r](std::string_view bytes) {
         r->decoder.feed(bytes.data(), bytes.size());
         while (auto f = r->decoder.next()) {
           r->tell(bridge_frame{f->type, f->id, std::move(f->body)});
         }
         if (r->decoder.failed()) {
           r->tell(bridge_lost{r->decoder.error()});
         }
       },
       [r](std::optional<std::string> failure) {
         if (failure) {
           r->tell(bridge_lost{std::move(*failure)});
           return;
         }
         auto why = r->decoder.at_eof();
         r->tell(bridge_lost{why.empty() ? std::string{"the guest closed the connection"} : why});
       }});
}

void log_frame(bridge_pointer self, const char* direction, uint32_t type, uint64_t id,
               const std::string& body) {
  auto& log = self->state.ctx.log;
  if (log && log->active()) {
    log->write(self->state.ctx.vm_id, direction, bridge::type_name(type).c_str(), id, body);
  }
}

// The bridge asks the engine's sweep timer to wake it at the earliest
// deadline of its calls, and cancels that once none is left.
void wake_at(bridge_pointer self, std::chrono::steady_clock::time_point due) {
  auto& st = self->state;
  if (st.sweep && st.sweep.due <= due) {
    return;
  }
  st.ctx.sweeps->cancel(st.sweep);
  st.sweep = st.ctx.sweeps->schedule(due, [addr = self->address()] {
    if (auto me = caf::actor_cast<caf::actor>(addr)) {
      caf::send_as(me, me, rpc_deadline_sweep{});
    }
  });
}

void stop_sweep(gcs_bridge_state& st) {
  if (st.sweep) {
    st.ctx.sweeps->cancel(st.sweep);
    st.sweep = {};
  }
}

} // namespace

// The connection is gone: every caller learns why, the VM hears of it.
void close_bridge(bridge_pointer self, const std::string& cause) {
  auto& st = self->state;
  if (st.closed) {
    return;
  }
  st.closed = cause;
  // Info: when the loss is unexpected the VM reports its exit as an error.
  logging::info({st.ctx.vm_id, {}}, "GCS bridge closed", {{"cause", cause}});
  if (st.link) {
    st.link->shut();
  }
  auto pending = std::move(st.pending);
  st.pending.clear();
  stop_sweep(st);
  for (auto& [id, call] : pending) {
    call.done(closed_error(cause));
  }
  auto waiting = std::move(st.after_negotiation);
  st.after_negotiation.clear();
  for (auto& run : waiting) {
    run(); // each sees `closed` and fails
  }
  release_guest_waiters(self, closed_error(cause));
  if (auto vm = caf::actor_cast<vm_actor>(st.ctx.vm)) {
    self->send(vm, bridge_lost{cause});
  }
}

namespace {

// Fails the calls past their deadline; a late response to one is dropped.
void sweep(bridge_pointer self) {
  auto& st = self->state;
  stop_sweep(st); // this wake-up's, or a later one's that the next sets again
  auto now = std::chrono::steady_clock::now();
  auto next = std::chrono::steady_clock::time_point::max();
  std::vector<pending_rpc> expired;
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (i->second.deadline <= now) {
      st.abandoned.insert(i->first);
      expired.push_back(std::move(i->second));
      i = st.pending.erase(i);
    } else {
      next = std::min(next, i->second.deadline);
      ++i;
    }
  }
  if (next != std::chrono::steady_clock::time_point::max()) {
    wake_at(self, next); // WaitForProcess has no deadline
  }
  for (auto& call : expired) {
    call.done(error{errc::hcs_failure, "bridge " + bridge::type_name(call.type) +
                                           " timed out after " +
                                           std::to_string(st.ctx.rpc_timeout.count()) + " ms"});
  }
}

} // namespace

void send_rpc(bridge_pointer self, bridge::rpc r, const std::string& body, rpc_done done,
              std::optional<std::chrono::milliseconds> deadline) {
  auto& st = self->state;
  auto* m = st.ctx.metrics.get();
  if (m != nullptr) {
    done = [m, done = std::move(done)](result<bridge::response> r) {
      if (!r || !r->ok()) {
        m->bridge_rpc_failed();
      }
      done(std::move(r));
    };
  }
  if (st.closed) {
    done(closed_error(*st.closed));
    return;
  }
  auto id = st.next_id++;
  auto type = bridge::request_type(r);
  log_frame(self, "send", type, id, body);
  auto due = deadline ? std::chrono::steady_clock::now() + *deadline
                      : std::chrono::steady_clock::time_point::max();
  st.pending.emplace(id, pending_rpc{type, due, std::move(done), metrics::in_flight_rpc{m}});
  // A stream that refuses the write has ended: its end is on its way here
  // (bridge_lost) and fails this call with the cause.
  st.link->stream().write(bridge::encode_frame(type, id, body));
  if (deadline) {
    wake_at(self, due);
  }
}

// Calls before the negotiation wait for it.
void when_negotiated(bridge_pointer self, std::function<void()> run) {
  auto& st = self->state;
  if (st.negotiated || st.closed) {
    run();
    return;
  }
  st.after_negotiation.push_back(std::move(run));
}

namespace {

void negotiate(bridge_pointer self) {
  send_rpc(
      self, bridge::rpc::negotiate_protocol, bridge::encode(bridge::negotiate_request{}),
      [self](result<bridge::response> r) {
        auto& st = self->state;
        if (!r) {
          close_bridge(self, r.err().text);
          return;
        }
        if (!r->ok() || r->version.value_or(0) != bridge::protocol_version) {
          close_bridge(self, r->ok() ? "unexpected version " +
                                           std::to_string(r->version.value_or(0)) + " returned"
                                     : "negotiation failed: " + r->error_message);
          return;
        }
        st.negotiated = true;
        st.capabilities = r->capabilities.value_or("{}");
        auto waiting = std::move(st.after_negotiation);
        st.after_negotiation.clear();
        for (auto& run : waiting) {
          run();
        }
      },
      self->state.ctx.rpc_timeout);
}

void on_frame(bridge_pointer self, uint32_t type, uint64_t id, std::string& body) {
  auto& st = self->state;
  if (st.closed) {
    return;
  }
  log_frame(self, "recv", type, id, body);
  if (bridge::is_notification(type)) {
    if (type != bridge::notify_container) {
      close_bridge(self, "bridge received unknown unknown notification message " +
                             bridge::type_name(type));
      return;
    }
    auto n = bridge::parse_notification(body);
    if (!n) {
      close_bridge(self, n.err().text);
      return;
    }
    on_container_notification(self, *n);
    return;
  }
  if (!bridge::is_response(type)) {
    close_bridge(self, "bridge received unknown unknown message type " + bridge::type_name(type));
    return;
  }
  auto call = st.pending.extract(id);
  if (st.pending.empty()) {
    stop_sweep(st);
  }
  if (call.empty()) {
    if (st.abandoned.erase(id) > 0) {
      return; // its caller gave up
    }
    close_bridge(self, "bridge received unknown rpc response for id " + std::to_string(id) +
                           ", type " + bridge::type_name(type));
    return;
  }
  auto r = bridge::parse_response(body);
  if (!r) {
    call.mapped().done(r.err());
    close_bridge(self, r.err().text);
    return;
  }
  call.mapped().done(std::move(*r));
}

std::string view_of(bridge_pointer self) {
  auto& st = self->state;
  nlohmann::json view = {{"external", st.ctx.external}, {"guest", st.ctx.guest}};
  if (st.ctx.stub) {
    view["mounts"] = st.ctx.stub->mounts();
    return view.dump();
  }
  view["negotiated"] = st.negotiated;
  view["pending"] = st.pending.size();
  // Whether the sweep timer will wake it: only while a call has a deadline.
  view["deadline_wake"] = static_cast<bool>(st.sweep);
  view["capabilities"] =
      nlohmann::json::parse(st.capabilities.empty() ? "{}" : st.capabilities, nullptr, false);
  if (st.closed) {
    view["closed"] = *st.closed;
  }
  if (st.agent_mounts) {
    view["mounts"] = st.agent_mounts->mounts();
  }
  return view.dump();
}

// A guest request of a device child: a ModifySettings RPC to the null
// container, answered through `done`.
void guest_modify(bridge_pointer self, const std::string& request, const std::string& activity,
                  guest_backend::completion done) {
  // v0.8.8 sends the zero GUID when there is no activity.
  bridge::modify_settings_request req;
  req.base = {bridge::zero_guid, activity.empty() ? std::string{bridge::zero_guid} : activity};
  req.request = request;
  auto body = bridge::encode(req);
  when_negotiated(self, [self, body, done = std::move(done)]() mutable {
    send_rpc(
        self, bridge::rpc::modify_settings, body,
        [done = std::move(done)](result<bridge::response> r) {
          done(!r ? r.err() : !r->ok() ? rpc_failure(*r) : error{});
        },
        self->state.ctx.rpc_timeout);
  });
}

// A guest call from a caller: left in the mailbox while the VM restores its
// devices (until calls_released), the VM's state error when it does not run.
template <class T, class F>
caf::result<T> guarded(bridge_pointer self, const char* what, F&& call) {
  if (self->state.held.must_wait(*self->state.ctx.gate)) {
    return caf::skip;
  }
  if (auto e = self->state.ctx.gate->check_running(what)) {
    return to_caf_error(e);
  }
  return call();
}

bridge_child::behavior_type gcs_bridge(bridge_pointer self, bridge_context ctx) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  if (st.ctx.stub) {
    // The device children ask the stub themselves; nothing speaks the
    // protocol here.
    st.closed = "the guest has no bridge connection";
  } else {
    bridge::guest_link::options opts;
    opts.loop = st.ctx.io.get();
    opts.stdio_dir = st.ctx.stdio_dir;
    auto unconfined = st.ctx.guest == "in-process-unconfined";
    if (st.ctx.guest == "in-process" || unconfined) {
      guest::service_options agent;
      agent.stdio_dir = st.ctx.stdio_dir;
      agent.modify_faults = st.agent_faults = std::make_shared<std::atomic<uint32_t>>(0);
      agent.mounts = st.agent_mounts = std::make_shared<bridge::mount_table>();
      agent.warn = [vm = st.ctx.vm_id](const std::string& m) { logging::warn({vm, {}}, m); };
      agent.confine = unconfined ? guest::confinement::unconfined : guest::confinement::sandboxed;
      if (unconfined) {
        logging::warn({st.ctx.vm_id, {}},
                      "the in-process guest runs its processes unconfined, as children of the "
                      "engine with its uid and namespaces: whoever may start a process has a "
                      "shell on this host (guest in-process-unconfined)");
      }
      opts.agent = [agent](std::shared_ptr<bridge::byte_stream> end,
                           std::shared_ptr<bridge::byte_stream> log_end) {
        auto o = agent;
        o.log = std::make_shared<guest::guest_log>(
            agent_log_level(), [log_end](std::string line) { log_end->write(std::move(line)); });
        guest::serve_stream(std::move(end), o, log_end);
      };
    }
    auto l = bridge::guest_link::open(st.ctx.guest, opts);
    if (!l) {
      st.closed = "cannot reach the guest: " + l.err().text;
      logging::error({st.ctx.vm_id, {}}, "GCS bridge not connected", {{"cause", *st.closed}});
    } else {
      st.link = std::move(*l);
      if (auto channel = st.link->log_stream()) {
        auto handler = st.ctx.output
                           ? st.ctx.output
                           : logging::default_output_handler(st.ctx.vm_id, st.ctx.guest_log_rate);
        st.guest_log = bridge::log_reader::start(
            *st.ctx.io, std::move(channel),
            [handler, done = st.ctx.output_done](std::string_view chunk, bool end) {
              handler(chunk, end);
              if (end && done) {
                done();
              }
            });
      }
      start_reading(self);
      negotiate(self);
    }
  }
  if (!st.guest_log && st.ctx.output_done) {
    st.ctx.output_done();
  }
  return {
      [=](mailbox_depth_request) -> uint64_t { return self->mailbox().size(); },
      [=](guest_modify_request& req) {
        if (!from_owner(self, self->state.ctx.vm, "guest_modify_request")) {
          return;
        }
        guest_modify(self, req.request, req.activity, std::move(req.done));
      },
      [=](guest_fail_atom, uint32_t count) {
        auto& st = self->state;
        if (st.ctx.stub) {
          st.ctx.stub->fail_next(count);
        } else if (st.agent_faults) {
          st.agent_faults->store(count);
        } else {
          logging::warn({st.ctx.vm_id, {}}, "guest faults can only be injected in-process",
                        {{"guest", st.ctx.guest}});
        }
      },
      [=](view_atom) -> std::string { return view_of(self); },
      [=](bridge_frame& f) {
        if (from_owner(self, self->address(), "bridge_frame")) {
          on_frame(self, f.type, f.id, f.body);
        }
      },
      [=](const bridge_lost& lost) {
        if (from_owner(self, self->address(), "bridge_lost")) {
          close_bridge(self, lost.cause);
        }
      },
      [=](rpc_deadline_sweep) {
        if (from_owner(self, self->address(), "rpc_deadline_sweep")) {
          sweep(self);
        }
      },
      [=](exec_process_atom, process_request& req) -> caf::result<process_started> {
        return guarded<process_started>(self, call_what<exec_process_atom>,
                                        [&] { return exec_process(self, std::move(req)); });
      },
      [=](wait_process_atom, const std::string& cid, uint32_t pid) -> caf::result<uint32_t> {
        return guarded<uint32_t>(self, call_what<wait_process_atom>,
                                 [&] { return wait_process(self, cid, pid); });
      },
      [=](forget_process_atom, const std::string& cid, uint32_t pid) {
        self->state.processes.erase({cid, pid});
      },
      [=](signal_process_atom, const std::string& cid, uint32_t pid, int32_t signal,
          const std::string& activity) -> caf::result<bool> {
        return guarded<bool>(self, call_what<signal_process_atom>,
                             [&] { return signal_process(self, cid, pid, signal, activity); });
      },
      [=](resize_console_atom, const std::string& cid, uint32_t pid, uint16_t width,
          uint16_t height, const std::string& activity) -> caf::result<caf::ok_atom> {
        return guarded<caf::ok_atom>(self, call_what<resize_console_atom>, [&] {
          return resize_console(self, cid, pid, width, height, activity);
        });
      },
      [=](create_container_atom, const std::string& id, const std::string& config,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return guarded<caf::ok_atom>(self, call_what<create_container_atom>,
                                     [&] { return create_container(self, id, config, activity); });
      },
      [=](start_container_atom, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return guarded<caf::ok_atom>(self, call_what<start_container_atom>,
                                     [&] { return start_container(self, id, activity); });
      },
      [=](stop_container_atom, const std::string& id, bool forced,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return guarded<caf::ok_atom>(self, call_what<stop_container_atom>,
                                     [&] { return stop_container(self, id, forced, activity); });
      },
      [=](wait_container_atom, const std::string& id) -> caf::result<caf::ok_atom> {
        return guarded<caf::ok_atom>(self, call_what<wait_container_atom>,
                                     [&] { return wait_container(self, id); });
      },
      [=](dump_stacks_atom, const std::string& activity) -> caf::result<std::string> {
        return guarded<std::string>(self, call_what<dump_stacks_atom>,
                                    [&] { return dump_stacks(self, activity); });
      },
      [=](delete_state_atom, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return guarded<caf::ok_atom>(self, call_what<delete_state_atom>,
                                     [&] { return delete_container_state(self, id, activity); });
      },
      [=](capabilities_atom) -> caf::result<guest_capabilities_info> {
        return guarded<guest_capabilities_info>(self, call_what<capabilities_atom>,
                                                [&] { return capabilities(self); });
      },
      [=](calls_released) {
        if (from_owner(self, self->state.ctx.vm, "calls_released")) {
          self->state.held.release();
        }
      },
      [=](system_exited& msg) {
        if (!from_owner(self, self->state.ctx.vm, "system_exited")) {
          return;
        }
        auto& st = self->state;
        auto why = from_caf_error(msg.why);
        auto pending = std::move(st.pending);
        st.pending.clear();
        stop_sweep(st);
        for (auto& [id, call] : pending) {
          call.done(why);
        }
        release_guest_waiters(self, why);
        st.closed = "the utility VM exited";
        auto waiting = std::move(st.after_negotiation);
        st.after_negotiation.clear();
        for (auto& run : waiting) {
          run(); // each sees `closed` and fails
        }
        if (st.link) {
          st.link->shut();
        }
        self->quit();
      },
  };
}

} // namespace

bridge_child spawn_gcs_bridge(caf::local_actor* parent, bridge_context ctx) {
  return parent->spawn<caf::linked>(gcs_bridge, std::move(ctx));
}

} // namespace uvm
