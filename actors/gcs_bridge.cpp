#include "actors/gcs_bridge.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actors/core/logging.hpp"
#include "actors/gcs_bridge_state.hpp"
#include "guest/io.hpp"
#include "hcs/device_requests.hpp"

namespace uvm {

gcs_bridge_state::~gcs_bridge_state() {
  if (link) {
    link->shut();
  }
  if (reader.joinable()) {
    reader.join();
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

// The reader: frames and the end of the stream become messages.
void read_loop(int fd, caf::actor_addr addr) {
  bridge::frame_decoder decoder;
  char buf[65536];
  auto tell = [&addr](auto... xs) {
    if (auto hdl = caf::actor_cast<caf::actor>(addr)) {
      caf::anon_send(hdl, xs...);
    }
  };
  for (;;) {
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == ECONNRESET) {
      tell(bridge_closed_atom_v, std::string{"the guest closed the connection (reset)"});
      return;
    }
    if (n < 0) {
      tell(bridge_closed_atom_v, std::string{"bridge read failed: "} + std::strerror(errno));
      return;
    }
    if (n == 0) {
      auto why = decoder.at_eof();
      tell(bridge_closed_atom_v,
           why.empty() ? std::string{"the guest closed the connection"} : why);
      return;
    }
    decoder.feed(buf, static_cast<size_t>(n));
    while (auto f = decoder.next()) {
      tell(bridge_frame_atom_v, f->type, f->id, std::move(f->body));
    }
    if (decoder.failed()) {
      tell(bridge_closed_atom_v, decoder.error());
      return;
    }
  }
}

void log_frame(bridge_pointer self, const char* direction, uint32_t type, uint64_t id,
               const std::string& body) {
  auto& log = self->state.ctx.log;
  if (log && log->active()) {
    log->write(self->state.ctx.vm_id, direction, bridge::type_name(type).c_str(), id, body);
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
  for (auto& [id, call] : pending) {
    call.done(closed_error(cause));
  }
  auto waiting = std::move(st.after_negotiation);
  st.after_negotiation.clear();
  for (auto& run : waiting) {
    run(); // each sees `closed` and fails
  }
  release_guest_waiters(self, closed_error(cause));
  if (st.ctx.vm) {
    caf::anon_send(st.ctx.vm, bridge_closed_atom_v, cause);
  }
}

namespace {

// Deadlines are checked by one periodic sweep while calls are pending, not
// by a timer per call: a timer costs a wakeup of CAF's clock thread.
std::chrono::milliseconds sweep_interval(const bridge_context& ctx) {
  return std::clamp(ctx.rpc_timeout / 4, std::chrono::milliseconds(1),
                    std::chrono::milliseconds(100));
}

void schedule_sweep(bridge_pointer self) {
  auto& st = self->state;
  if (st.sweep_scheduled ||
      std::none_of(st.pending.begin(), st.pending.end(), [](const auto& call) {
        return call.second.deadline != std::chrono::steady_clock::time_point::max();
      })) {
    return; // nothing with a deadline (WaitForProcess has none)
  }
  st.sweep_scheduled = true;
  self->delayed_send(self, sweep_interval(st.ctx), rpc_timeout_atom_v);
}

// Fails the calls past their deadline; a late response to one is dropped.
void sweep(bridge_pointer self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  auto now = std::chrono::steady_clock::now();
  std::vector<pending_rpc> expired;
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (i->second.deadline <= now) {
      st.abandoned.insert(i->first);
      expired.push_back(std::move(i->second));
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& call : expired) {
    call.done(error{errc::hcs_failure, "bridge " + bridge::type_name(call.type) +
                                           " timed out after " +
                                           std::to_string(st.ctx.rpc_timeout.count()) + " ms"});
  }
  schedule_sweep(self);
}

} // namespace

void send_rpc(bridge_pointer self, bridge::rpc r, const std::string& body, rpc_done done,
              std::optional<std::chrono::milliseconds> deadline) {
  auto& st = self->state;
  if (st.closed) {
    done(closed_error(*st.closed));
    return;
  }
  auto id = st.next_id++;
  auto type = bridge::request_type(r);
  log_frame(self, "send", type, id, body);
  auto due = deadline ? std::chrono::steady_clock::now() + *deadline
                      : std::chrono::steady_clock::time_point::max();
  st.pending.emplace(id, pending_rpc{type, due, std::move(done)});
  if (!guest::write_fully(st.link->fd(), bridge::encode_frame(type, id, body))) {
    close_bridge(self, std::string{"bridge write: "} + std::strerror(errno));
    return;
  }
  schedule_sweep(self);
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
  if (st.stub) {
    view["mounts"] = st.stub->mounts();
    return view.dump();
  }
  view["negotiated"] = st.negotiated;
  view["pending"] = st.pending.size();
  view["capabilities"] =
      nlohmann::json::parse(st.capabilities.empty() ? "{}" : st.capabilities, nullptr, false);
  if (st.closed) {
    view["closed"] = *st.closed;
  }
  if (st.link && st.link->mounts()) {
    view["mounts"] = st.link->mounts()->mounts();
  }
  return view.dump();
}

gcs_bridge_actor::behavior_type gcs_bridge(bridge_pointer self, bridge_context ctx) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  if (st.ctx.guest == "stub") {
    st.stub = st.ctx.stub ? st.ctx.stub : std::make_shared<stub_guest>(st.ctx.vm_id, st.ctx.log);
  } else {
    guest::service_options opts;
    opts.stdio_dir = st.ctx.stdio_dir;
    opts.warn = [vm = st.ctx.vm_id](const std::string& m) { logging::warn({vm, {}}, m); };
    auto l = guest::link::open(st.ctx.guest, opts);
    if (!l) {
      st.closed = "cannot reach the guest: " + l.err().text;
      logging::error({st.ctx.vm_id, {}}, "GCS bridge not connected", {{"cause", *st.closed}});
    } else {
      st.link = std::move(*l);
      st.reader = std::thread(read_loop, st.link->fd(), self->address());
      negotiate(self);
    }
  }
  return {
      [=](guest_modify_atom, const std::string& request,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        auto& st = self->state;
        if (st.stub) {
          if (auto e = st.stub->modify_settings(request, activity)) {
            return to_caf_error(e);
          }
          return caf::ok_atom_v;
        }
        // v0.8.8 sends the zero GUID when there is no activity.
        auto activity_id = activity.empty() ? std::string{bridge::zero_guid} : activity;
        auto rp = self->make_response_promise<caf::ok_atom>();
        bridge::modify_settings_request req;
        req.base = {bridge::zero_guid, activity_id};
        req.request = request;
        auto body = bridge::encode(req);
        when_negotiated(self, [self, rp, body]() mutable {
          send_rpc(
              self, bridge::rpc::modify_settings, body,
              [rp](result<bridge::response> r) mutable {
                if (!r) {
                  rp.deliver(to_caf_error(r.err()));
                } else if (!r->ok()) {
                  rp.deliver(to_caf_error(rpc_failure(*r)));
                } else {
                  rp.deliver(caf::ok_atom_v);
                }
              },
              self->state.ctx.rpc_timeout);
        });
        return rp;
      },
      [=](guest_fail_atom, uint32_t count) {
        auto& st = self->state;
        if (st.stub) {
          st.stub->fail_next(count);
        } else if (!st.link || !st.link->fail_next_modify(count)) {
          logging::warn({st.ctx.vm_id, {}}, "guest faults can only be injected in-process",
                        {{"guest", st.ctx.guest}});
        }
      },
      [=](view_atom) -> std::string { return view_of(self); },
      [=](bridge_frame_atom, uint32_t type, uint64_t id, std::string& body) {
        on_frame(self, type, id, body);
      },
      [=](bridge_closed_atom, const std::string& cause) { close_bridge(self, cause); },
      [=](rpc_timeout_atom) { sweep(self); },
      [=](exec_process_atom, process_request& req) { return exec_process(self, std::move(req)); },
      [=](wait_process_atom, const std::string& cid, uint32_t pid) {
        return wait_process(self, cid, pid);
      },
      [=](forget_process_atom, const std::string& cid, uint32_t pid) {
        self->state.processes.erase({cid, pid});
      },
      [=](signal_process_atom, const std::string& cid, uint32_t pid, int32_t signal,
          const std::string& activity) { return signal_process(self, cid, pid, signal, activity); },
      [=](resize_console_atom, const std::string& cid, uint32_t pid, uint16_t width,
          uint16_t height, const std::string& activity) {
        return resize_console(self, cid, pid, width, height, activity);
      },
      [=](create_container_atom, const std::string& id, const std::string& config,
          const std::string& activity) { return create_container(self, id, config, activity); },
      [=](start_container_atom, const std::string& id, const std::string& activity) {
        return start_container(self, id, activity);
      },
      [=](stop_container_atom, const std::string& id, bool forced, const std::string& activity) {
        return stop_container(self, id, forced, activity);
      },
      [=](wait_container_atom, const std::string& id) { return wait_container(self, id); },
      [=](dump_stacks_atom, const std::string& activity) { return dump_stacks(self, activity); },
      [=](delete_state_atom, const std::string& id, const std::string& activity) {
        return delete_container_state(self, id, activity);
      },
      [=](capabilities_atom) { return capabilities(self); },
      [=](vm_exit_atom, const caf::error& why) {
        auto& st = self->state;
        auto pending = std::move(st.pending);
        st.pending.clear();
        for (auto& [id, call] : pending) {
          call.done(from_caf_error(why));
        }
        release_guest_waiters(self, from_caf_error(why));
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

gcs_bridge_actor spawn_gcs_bridge(caf::local_actor* parent, bridge_context ctx) {
  return parent->spawn<caf::linked>(gcs_bridge, std::move(ctx));
}

} // namespace uvm
