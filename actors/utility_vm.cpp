#include "actors/utility_vm.hpp"

#include <filesystem>
#include <functional>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/core/hcs_errors.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/vm_lifecycle.hpp"
#include "actors/core/vm_stats.hpp"
#include "actors/gcs_bridge.hpp"
#include "actors/layer_controller.hpp"
#include "actors/network_controller.hpp"
#include "actors/scsi_controller.hpp"
#include "actors/share_controller.hpp"
#include "actors/vpci_controller.hpp"
#include "actors/vpmem_controller.hpp"
#include "hcs/guid.hpp"

namespace uvm {

namespace {

using ok_promise = caf::typed_response_promise<caf::ok_atom>;

// A backend call in flight: what to do with its result, and how to fail it
// if the VM exits first.
struct pending_call {
  std::function<void(hcs::call_result)> on_done;
  std::function<void(const error&)> on_abort;
};

// The child actors of a created system.
struct vm_children {
  gcs_bridge_actor bridge;
  scsi_actor scsi;
  vpmem_actor vpmem;
  share_actor shares;
  network_actor network;
  vpci_actor vpci;
  layer_actor layers;

  // Every child as an untyped handle with its name, for what all share.
  std::vector<std::pair<const char*, caf::actor>> all() const {
    return {{"gcs_bridge", caf::actor_cast<caf::actor>(bridge)},
            {"scsi", caf::actor_cast<caf::actor>(scsi)},
            {"vpmem", caf::actor_cast<caf::actor>(vpmem)},
            {"shares", caf::actor_cast<caf::actor>(shares)},
            {"network", caf::actor_cast<caf::actor>(network)},
            {"vpci", caf::actor_cast<caf::actor>(vpci)},
            {"combined_layers", caf::actor_cast<caf::actor>(layers)}};
  }
};

struct utility_vm_state {
  vm_env env;
  vm_spec spec;
  hcs::create_plan plan;
  vm_lifecycle life{""};
  std::string runtime_id;
  // Each created system gets a new generation, so that the callbacks of a
  // system that was replaced (restart) are recognised and dropped.
  uint64_t generation = 0;
  uint64_t next_call = 0;
  std::unordered_map<uint64_t, pending_call> calls;
  std::vector<ok_promise> waiters;
  std::vector<std::function<void()>> on_stopped; // Close waits for the exit
  std::optional<vm_children> children;
  uint64_t container_counter = 0;
  uint64_t mount_counter = 0;
  std::string exit_activity;
  std::string bridge_lost; // why the guest connection ended, while stopping for it
  static inline const char* name = "utility_vm";
};

using vm_pointer = utility_vm_actor::stateful_pointer<utility_vm_state>;

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
  info.processor_count = st.plan.processor_count;
  info.memory_size_in_mb = st.plan.memory_size_in_mb;
  info.is_oci = false;
  info.runtime_id = st.runtime_id;
  info.state = st.life.state();
  info.restarts = st.life.restarts();
  return info;
}

// Issues one backend call whose completion comes back as a message.
void call_backend(vm_pointer self, std::function<void(hcs::backend&, hcs::completion)> issue,
                  std::function<void(hcs::call_result)> on_done,
                  std::function<void(const error&)> on_abort) {
  auto id = self->state.next_call++;
  self->state.calls.emplace(id, pending_call{std::move(on_done), std::move(on_abort)});
  auto addr = self->address();
  issue(*self->state.env.backend, [addr, id](hcs::call_result r) {
    if (auto hdl = caf::actor_cast<utility_vm_actor>(addr)) {
      caf::anon_send(hdl, hcs_done_atom_v, id, std::move(r));
    }
  });
}

void publish(vm_pointer self, caf::message msg) {
  if (self->state.env.bus) {
    caf::anon_send(self->state.env.bus, std::move(msg));
  }
}

// A device call goes to the child that owns it, if the VM is running.
template <class R, class Child, class... Ts>
caf::result<R> route(vm_pointer self, const char* what, Child vm_children::*child, Ts&&... xs) {
  if (auto e = self->state.life.check_running(what)) {
    return to_caf_error(e);
  }
  return self->delegate((*self->state.children).*child, std::forward<Ts>(xs)...);
}

void spawn_children(vm_pointer self) {
  const auto& plan = self->state.plan;
  vm_children c;
  bridge_context bc;
  bc.vm_id = plan.id;
  bc.external = plan.external_guest_connection;
  // Without an external connection HCS talks to the guest: no agent here.
  bc.guest = "stub";
  if (plan.external_guest_connection) {
    auto own = self->state.env.backend->guest_connection(plan.id);
    bc.guest = own.empty() ? self->state.env.guest : own;
  }
  bc.stdio_dir = (std::filesystem::temp_directory_path() / ("uvm-stdio-" + plan.id)).string();
  bc.rpc_timeout = self->state.env.bridge_rpc_timeout;
  bc.log = self->state.env.bridge_log;
  bc.vm = caf::actor_cast<caf::actor>(self);
  bc.bus = self->state.env.bus;
  std::shared_ptr<stub_guest> stub;
  if (bc.guest == "stub") {
    stub = std::make_shared<stub_guest>(plan.id, bc.log);
    bc.stub = stub;
  }
  c.bridge = spawn_gcs_bridge(self, std::move(bc));
  scsi_context scsi;
  scsi.vm_id = plan.id;
  scsi.lcow = plan.os == "linux";
  scsi.external_guest = plan.external_guest_connection;
  scsi.controllers = plan.scsi_controller_count;
  if (!plan.scratch_disk_path.empty()) {
    scsi_attachment scratch;
    scratch.host_path = plan.scratch_disk_path;
    scsi.scratch = scratch;
  }
  scsi.backend = self->state.env.backend;
  scsi.bridge = c.bridge;
  scsi.stub = stub;
  scsi.bus = self->state.env.bus;
  c.scsi = spawn_scsi_controller(self, std::move(scsi));
  device_env env{plan.id,
                 scsi.lcow,
                 plan.external_guest_connection,
                 self->state.env.backend,
                 c.bridge,
                 self->state.env.bus,
                 stub};
  vpmem_context vpmem{env, plan.vpmem_max_count, plan.vpmem_max_size_bytes, std::nullopt};
  if (!plan.vpmem_slot0_key.empty()) {
    vpmem.rootfs_file = plan.vpmem_slot0_key;
  }
  c.vpmem = spawn_vpmem_controller(self, std::move(vpmem));
  c.shares = spawn_share_controller(self, share_context{env, self->state.env.host.os_build});
  c.network =
      spawn_network_controller(self, network_context{env, self->state.env.host.os_build, true});
  c.vpci = spawn_vpci_controller(self, env);
  c.layers = spawn_layer_controller(self, env);
  self->state.children = std::move(c);
}

void stop_children(vm_pointer self, const error& why) {
  if (!self->state.children) {
    return;
  }
  for (auto& [name, child] : self->state.children->all()) {
    caf::anon_send(child, vm_exit_atom_v, to_caf_error(why));
  }
  self->state.children.reset();
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
  auto calls = std::move(st.calls);
  st.calls.clear();
  for (auto& [id, call] : calls) {
    call.on_abort(why);
  }
  stop_children(self, why);
  for (auto& w : st.waiters) {
    w.deliver(caf::ok_atom_v);
  }
  st.waiters.clear();
  auto stopped = std::move(st.on_stopped);
  st.on_stopped.clear();
  for (auto& f : stopped) {
    f();
  }
  publish(self, caf::make_message(vm_exited_event{st.plan.id, activity, crashed,
                                                  crashed ? text : std::string{}}));
  self->send(st.env.supervisor, vm_exit_atom_v, st.plan.id, crashed, crashed ? text : std::string{},
             activity);
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
    if (auto hdl = caf::actor_cast<utility_vm_actor>(addr)) {
      caf::anon_send(hdl, hcs_exit_atom_v, gen, std::move(info));
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

// The SCSI child answers callers that send to it directly, so it follows
// the lifecycle; it hears of a change before anyone else can act on it.
void report_state(vm_pointer self) {
  if (self->state.children) {
    self->send(self->state.children->scsi, vm_state_atom_v, self->state.life.state());
  }
}

// After begin_start.
void start_system(vm_pointer self, const std::string& activity,
                  std::function<void(const error&)> done) {
  auto id = self->state.plan.id;
  report_state(self);
  call_backend(
      self, [id](hcs::backend& b, hcs::completion c) { b.start(id, std::move(c)); },
      [self, id, activity, done](hcs::call_result r) {
        if (!r.ok()) {
          self->state.life.start_failed();
          report_state(self);
          done(hcs_error("System::Start", id, r));
          return;
        }
        self->state.life.start_succeeded();
        report_state(self);
        logging::info(log_ctx(self, activity), "utility VM started");
        publish(self,
                caf::make_message(vm_started_event{id, activity, self->state.life.restarts()}));
        done({});
      },
      [self, done](const error& e) {
        self->state.life.start_failed();
        report_state(self);
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
  report_state(self);
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
  logging::info(log_ctx(self, activity), "utility VM closed");
  publish(self, caf::make_message(vm_closed_event{st.plan.id, activity}));
  self->send(st.env.registry, forget_atom_v, st.plan.id);
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
  auto failed = [self, activity](const error& e) {
    logging::error(log_ctx(self, activity), "utility VM restart failed", {{"error", e.text}});
    self->state.life.on_exit(true, e.text);
    self->send(self->state.env.supervisor, vm_exit_atom_v, self->state.plan.id, true, e.text,
               activity);
  };
  create_system(self, activity, [self, activity, start_again, failed](const error& e) {
    if (e) {
      failed(e);
      return;
    }
    if (!start_again || self->state.life.begin_start()) {
      return;
    }
    start_system(self, activity, [failed](const error& se) {
      if (se) {
        failed(se);
      }
    });
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

utility_vm_actor::behavior_type utility_vm(vm_pointer self, vm_env env, vm_spec spec) {
  self->state.env = std::move(env);
  self->state.spec = std::move(spec);
  return {
      [=](create_atom, const std::string& activity_in) -> caf::result<vm_info> {
        auto activity = activity_or_new(activity_in);
        auto plan = make_plan(self);
        if (!plan) {
          self->quit();
          return to_caf_error(plan.err());
        }
        self->state.plan = std::move(*plan);
        self->state.life = vm_lifecycle{self->state.plan.id};
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
          self->send(self->state.env.supervisor, watch_atom_v,
                     caf::actor_cast<utility_vm_actor>(self), self->state.plan.id,
                     self->state.spec.policy);
          rp.deliver(make_info(self));
        });
        return rp;
      },
      [=](start_atom, const std::string& activity_in) -> caf::result<caf::ok_atom> {
        auto activity = activity_or_new(activity_in);
        if (auto e = self->state.life.begin_start()) {
          return to_caf_error(e);
        }
        auto rp = self->make_response_promise<caf::ok_atom>();
        start_system(self, activity, [rp](const error& e) mutable {
          e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
        });
        return rp;
      },
      [=](wait_atom) -> caf::result<caf::ok_atom> {
        auto s = self->state.life.state();
        if (self->state.life.has_exited() || s == lifecycle_state::closed) {
          return caf::ok_atom_v;
        }
        auto rp = self->make_response_promise<caf::ok_atom>();
        self->state.waiters.push_back(rp);
        return rp;
      },
      [=](terminate_atom, const std::string& activity) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        stop_system(self, true, activity_or_new(activity), [rp](const error& e) mutable {
          e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
        });
        return rp;
      },
      [=](shutdown_atom, const std::string& activity) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        stop_system(self, false, activity_or_new(activity), [rp](const error& e) mutable {
          e ? rp.deliver(to_caf_error(e)) : rp.deliver(caf::ok_atom_v);
        });
        return rp;
      },
      [=](close_atom, const std::string& activity_in) -> caf::result<caf::ok_atom> {
        auto activity = activity_or_new(activity_in);
        auto rp = self->make_response_promise<caf::ok_atom>();
        auto done = [self, rp, activity]() mutable {
          if (self->state.life.state() != lifecycle_state::closed) {
            finish_close(self, activity);
          }
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
      [=](counter_atom, counter_kind kind) -> uint64_t {
        return kind == counter_kind::container ? ++self->state.container_counter
                                               : ++self->state.mount_counter;
      },
      [=](children_atom) -> std::vector<caf::actor_addr> {
        std::vector<caf::actor_addr> out;
        if (self->state.children) {
          for (auto& [name, child] : self->state.children->all()) {
            out.push_back(child.address());
          }
        }
        return out;
      },
      [=](view_atom) -> caf::result<std::string> {
        auto children = self->state.children ? self->state.children->all()
                                             : std::vector<std::pair<const char*, caf::actor>>{};
        auto rp = self->make_response_promise<std::string>();
        auto view = std::make_shared<nlohmann::json>(nlohmann::json::object());
        auto left = std::make_shared<size_t>(children.size());
        if (children.empty()) {
          rp.deliver(view->dump());
          return rp;
        }
        for (auto& [child_name, child] : children) {
          std::string name = child_name;
          self->request(child, std::chrono::seconds(10), view_atom_v)
              .then(
                  [rp, view, left, name](const std::string& part) mutable {
                    (*view)[name] = nlohmann::json::parse(part);
                    if (--*left == 0) {
                      rp.deliver(view->dump());
                    }
                  },
                  [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
        }
        return rp;
      },
      [=](add_scsi_atom add, scsi_add_request& req) -> caf::result<scsi_mount> {
        return route<scsi_mount>(self, scsi_call::add, &vm_children::scsi, add, std::move(req));
      },
      [=](remove_scsi_atom rm, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, scsi_call::remove, &vm_children::scsi, rm, host_path,
                                   activity);
      },
      [=](scsi_path_atom get, const std::string& host_path) -> caf::result<std::string> {
        return route<std::string>(self, scsi_call::path, &vm_children::scsi, get, host_path);
      },
      [=](scsi_ctl_atom) -> caf::result<scsi_actor> {
        if (auto e = self->state.life.check_running("hand out its SCSI controller")) {
          return to_caf_error(e);
        }
        return self->state.children->scsi;
      },
      [=](add_vpmem_atom a, const std::string& host_path,
          const std::string& activity) -> caf::result<std::string> {
        return route<std::string>(self, "add a VPMEM device", &vm_children::vpmem, a, host_path,
                                  activity);
      },
      [=](remove_vpmem_atom a, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove a VPMEM device", &vm_children::vpmem, a, host_path,
                                   activity);
      },
      [=](add_vsmb_atom a, vsmb_add_request& req) -> caf::result<vsmb_share_handle> {
        return route<vsmb_share_handle>(self, "add a VSMB share", &vm_children::shares, a,
                                        std::move(req));
      },
      [=](remove_vsmb_atom a, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove a VSMB share", &vm_children::shares, a, host_path,
                                   activity);
      },
      [=](vsmb_path_atom a, const std::string& host_path) -> caf::result<std::string> {
        return route<std::string>(self, "look up a VSMB share", &vm_children::shares, a, host_path);
      },
      [=](add_plan9_atom a, plan9_add_request& req) -> caf::result<plan9_share_handle> {
        return route<plan9_share_handle>(self, "add a Plan9 share", &vm_children::shares, a,
                                         std::move(req));
      },
      [=](remove_plan9_atom a, const std::string& name,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove a Plan9 share", &vm_children::shares, a, name,
                                   activity);
      },
      [=](add_pipe_atom a, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "add a named pipe", &vm_children::shares, a, host_path,
                                   activity);
      },
      [=](remove_pipe_atom a, const std::string& host_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove a named pipe", &vm_children::shares, a, host_path,
                                   activity);
      },
      [=](add_netns_atom a, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "add a network namespace", &vm_children::network, a, id,
                                   activity);
      },
      [=](remove_netns_atom a, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove a network namespace", &vm_children::network, a, id,
                                   activity);
      },
      [=](add_endpoints_atom a, const std::string& id,
          const std::vector<hcs::network_endpoint>& endpoints,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "add network endpoints", &vm_children::network, a, id,
                                   endpoints, activity);
      },
      [=](remove_endpoints_atom a, const std::string& id,
          const std::vector<hcs::network_endpoint>& endpoints,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove network endpoints", &vm_children::network, a, id,
                                   endpoints, activity);
      },
      [=](assign_device_atom a, const hcs::virtual_pci_device& device,
          const std::string& activity) -> caf::result<std::string> {
        return route<std::string>(self, "assign a VPCI device", &vm_children::vpci, a, device,
                                  activity);
      },
      [=](remove_device_atom a, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove a VPCI device", &vm_children::vpci, a, id,
                                   activity);
      },
      [=](combine_layers_atom a, combine_layers_request& req) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "combine layers", &vm_children::layers, a, std::move(req));
      },
      [=](remove_layers_atom a, const std::string& root_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "remove combined layers", &vm_children::layers, a,
                                   root_path, activity);
      },
      [=](exec_process_atom a, process_request& req) -> caf::result<process_started> {
        return route<process_started>(self, "create a process", &vm_children::bridge, a,
                                      std::move(req));
      },
      [=](wait_process_atom a, const std::string& cid, uint32_t pid) -> caf::result<uint32_t> {
        return route<uint32_t>(self, "wait for a process", &vm_children::bridge, a, cid, pid);
      },
      [=](forget_process_atom a, const std::string& cid, uint32_t pid) {
        if (self->state.children) {
          self->send(self->state.children->bridge, a, cid, pid);
        }
      },
      [=](signal_process_atom a, const std::string& cid, uint32_t pid, int32_t signal,
          const std::string& activity) -> caf::result<bool> {
        return route<bool>(self, "signal a process", &vm_children::bridge, a, cid, pid, signal,
                           activity);
      },
      [=](resize_console_atom a, const std::string& cid, uint32_t pid, uint16_t width,
          uint16_t height, const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "resize a console", &vm_children::bridge, a, cid, pid,
                                   width, height, activity);
      },
      [=](create_container_atom a, const std::string& id, const std::string& config,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "create a container", &vm_children::bridge, a, id, config,
                                   activity);
      },
      [=](start_container_atom a, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "start a container", &vm_children::bridge, a, id,
                                   activity);
      },
      [=](stop_container_atom a, const std::string& id, bool forced,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "stop a container", &vm_children::bridge, a, id, forced,
                                   activity);
      },
      [=](wait_container_atom a, const std::string& id) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "wait for a container", &vm_children::bridge, a, id);
      },
      [=](dump_stacks_atom a, const std::string& activity) -> caf::result<std::string> {
        return route<std::string>(self, "dump stacks", &vm_children::bridge, a, activity);
      },
      [=](delete_state_atom a, const std::string& id,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return route<caf::ok_atom>(self, "delete container state", &vm_children::bridge, a, id,
                                   activity);
      },
      [=](capabilities_atom a) -> caf::result<guest_capabilities_info> {
        return route<guest_capabilities_info>(self, "read the guest's capabilities",
                                              &vm_children::bridge, a);
      },
      [=](guest_fail_atom, uint32_t count) {
        if (self->state.children) {
          self->send(self->state.children->bridge, guest_fail_atom_v, count);
        }
      },
      [=](bridge_closed_atom, const std::string& cause) {
        auto& st = self->state;
        if (st.life.state() != lifecycle_state::running || !st.bridge_lost.empty()) {
          return;
        }
        // Without its guest the VM can do nothing more: it is stopped, and
        // its exit is reported as unexpected, naming the cause.
        st.bridge_lost = cause;
        auto id = st.plan.id;
        call_backend(
            self, [id](hcs::backend& b, hcs::completion c) { b.terminate(id, std::move(c)); },
            [](hcs::call_result) {}, [](const error&) {});
      },
      [=](restart_atom) { restart_system(self); },
      [=](hcs_done_atom, uint64_t id, hcs::call_result& r) {
        auto i = self->state.calls.find(id);
        if (i == self->state.calls.end()) {
          return; // already failed by an exit
        }
        auto call = std::move(i->second);
        self->state.calls.erase(i);
        call.on_done(std::move(r));
      },
      [=](hcs_exit_atom, uint64_t generation, const hcs::exit_info& info) {
        if (generation == self->state.generation) {
          handle_exit(self, info);
        }
      },
  };
}

} // namespace

utility_vm_actor spawn_utility_vm(caf::local_actor* parent, vm_env env, vm_spec spec) {
  return parent->spawn<caf::linked>(utility_vm, std::move(env), std::move(spec));
}

} // namespace uvm
