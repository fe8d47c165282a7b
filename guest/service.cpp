// The guest service's dispatch, negotiation, properties and mounts; its
// containers and processes are in service_processes.cpp.
#include "guest/service.hpp"

#include <csignal>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"
#include "guest/process_params.hpp"
#include "guest/service_replies.hpp"

namespace uvm::guest {

namespace {

using bridge::hresult::fail;
using bridge::hresult::invalid_json;
using bridge::hresult::not_impl;
using bridge::hresult::system_not_found;
using json = nlohmann::json;

} // namespace

void warn(const service_options& options, const std::string& message) {
  if (options.log) {
    options.log->log(log_level::warning, message);
  } else if (options.warn) {
    options.warn(message);
  } else {
    std::cerr << "uvm guest: " << message << std::endl;
  }
}

service::service(service_options opts, send_fn send)
    : opts_(std::move(opts)), send_(std::move(send)),
      mounts_(opts_.mounts ? opts_.mounts : std::make_shared<bridge::mount_table>()) {
  if (opts_.mounting == mount_mode::real) {
    mounter_.emplace();
  }
  if (opts_.confine == confinement::sandboxed) {
    // Said once per engine: the host is the same for every agent.
    static std::atomic<bool> said{false};
    const auto& cgroups = host_cgroups();
    if (!cgroups && !said.exchange(true)) {
      warn(opts_, "sandbox: no cgroup can be used, so sandboxed processes run without memory "
                  "and pids limits: " +
                      cgroups.err().text);
    }
  }
}

service::~service() {
  auto abandon_all = [this] {
    std::vector<std::shared_ptr<process>> all;
    {
      std::lock_guard<std::mutex> lock{mutex_};
      for (auto& [pid, p] : uvm_processes_) {
        all.push_back(p);
      }
      for (auto& [id, c] : containers_) {
        for (auto& [pid, p] : c.processes) {
          all.push_back(p);
        }
      }
    }
    for (auto& p : all) {
      p->abandon(); // idempotent
    }
  };
  // First the processes the workers may wait on, then the workers; a
  // process start still running then adds its process, abandoned last.
  abandon_all();
  std::vector<worker> threads;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    threads = std::move(threads_);
  }
  for (auto& w : threads) {
    w.thread.join();
  }
  abandon_all();
}

bool service::stopping() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return stopping_;
}

void service::reply(uint32_t request_type, uint64_t id, const bridge::response& r) {
  send_(bridge::response_type_for(request_type), id, bridge::encode(r));
}

void service::spawn(std::function<void()> job) {
  std::vector<worker> finished;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    for (auto i = threads_.begin(); i != threads_.end();) {
      if (i->done->load()) {
        finished.push_back(std::move(*i));
        i = threads_.erase(i);
      } else {
        ++i;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    threads_.push_back({std::thread([job = std::move(job), done] {
                          job();
                          done->store(true);
                        }),
                        done});
  }
  for (auto& w : finished) {
    w.thread.join();
  }
}

void service::handle(const bridge::frame& f) {
  auto r = bridge::rpc_of(f.type);
  bool negotiated = false;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    negotiated = negotiated_;
  }
  bool negotiate = r && *r == bridge::rpc::negotiate_protocol;
  if (opts_.log && opts_.log->enabled(log_level::debug)) {
    opts_.log->log(log_level::debug, "bridge request",
                   {{"type", bridge::type_name(f.type)}, {"id", f.id}});
  }
  if (!bridge::is_request(f.type) || !r || negotiate == negotiated ||
      *r == bridge::rpc::lifecycle_notification) {
    // Before negotiation only NegotiateProtocol is known, and only once.
    auto base = bridge::parse_base(f.body);
    reply(f.type, f.id,
          bridge::failure(not_impl,
                          "HRESULT 0x80004001: bridge: function not supported, header type: " +
                              bridge::type_name(f.type),
                          base ? std::optional<std::string>{base->activity_id} : std::nullopt));
    return;
  }
  switch (*r) {
  case bridge::rpc::negotiate_protocol:
    reply(f.type, f.id, negotiate_protocol(f.body));
    return;
  case bridge::rpc::create:
    reply(f.type, f.id, create(f.body));
    return;
  case bridge::rpc::start:
    reply(f.type, f.id, start(f.body));
    return;
  case bridge::rpc::shutdown_graceful:
  case bridge::rpc::shutdown_forced:
    reply(f.type, f.id, shutdown(f.body, *r == bridge::rpc::shutdown_forced));
    return;
  case bridge::rpc::execute_process:
    // Starting a process (a sandbox's namespaces and mounts, a fork) takes
    // milliseconds, more on a loaded host: the other requests of this
    // connection, and of every VM that shares the I/O loop, go on meanwhile.
    spawn([this, type = f.type, id = f.id, body = f.body] {
      reply(type, id, execute_process(body));
    });
    return;
  case bridge::rpc::wait_for_process:
    wait_for_process(f.type, f.id, f.body);
    return;
  case bridge::rpc::signal_process:
    reply(f.type, f.id, signal_process(f.body));
    return;
  case bridge::rpc::resize_console:
    reply(f.type, f.id, resize_console(f.body));
    return;
  case bridge::rpc::get_properties:
    reply(f.type, f.id, get_properties(f.body));
    return;
  case bridge::rpc::modify_settings:
    if (mounter_) {
      // A real mount may wait seconds for a hot-plugged device: the other
      // requests go on meanwhile, as in the Linux GCS.
      spawn([this, type = f.type, id = f.id, body = f.body] {
        reply(type, id, modify_settings(body));
      });
    } else {
      reply(f.type, f.id, modify_settings(f.body));
    }
    return;
  case bridge::rpc::dump_stacks:
    reply(f.type, f.id, dump_stacks(f.body));
    return;
  case bridge::rpc::delete_container_state:
    reply(f.type, f.id, delete_container_state(f.body));
    return;
  case bridge::rpc::lifecycle_notification:
    return;
  }
}

bridge::response service::negotiate_protocol(const std::string& body) {
  auto req = bridge::parse_negotiate(body);
  if (!req) {
    return bad_body(req.err());
  }
  if (req->maximum_version < bridge::protocol_version ||
      req->minimum_version > bridge::protocol_version) {
    return bridge::failure(bridge::hresult::unsupported_version,
                           "the requested protocol versions " +
                               std::to_string(req->minimum_version) + ".." +
                               std::to_string(req->maximum_version) + " do not include 4",
                           req->base.activity_id);
  }
  {
    std::lock_guard<std::mutex> lock{mutex_};
    negotiated_ = true;
  }
  if (opts_.log) {
    opts_.log->log(log_level::info, "bridge protocol negotiated",
                   {{"version", bridge::protocol_version}, {"activityID", req->base.activity_id}});
  }
  auto r = ok_response(req->base.activity_id);
  r.version = bridge::protocol_version;
  r.capabilities = bridge::linux_capabilities();
  return r;
}

bridge::response service::get_properties(const std::string& body) {
  auto req = bridge::parse_get_properties(body);
  if (!req) {
    return bad_body(req.err());
  }
  const auto& act = req->base.activity_id;
  if (req->base.container_id == bridge::zero_guid) {
    return bridge::failure(fail, "getPropertiesV2 is not supported against the UVM", act);
  }
  auto query = json::parse(req->query.empty() ? "{}" : req->query, nullptr, false);
  if (!query.is_object()) {
    return bridge::failure(invalid_json, "invalid Query JSON", act);
  }
  std::lock_guard<std::mutex> lock{mutex_};
  auto c = containers_.find(req->base.container_id);
  if (c == containers_.end()) {
    return bridge::failure(system_not_found, "container " + req->base.container_id + " not found",
                           act);
  }
  nlohmann::ordered_json props = nlohmann::ordered_json::object();
  if (const auto* types = member(query, "PropertyTypes"); types != nullptr && types->is_array()) {
    for (const auto& t : *types) {
      if (t == "ProcessList") {
        auto list = nlohmann::ordered_json::array();
        for (const auto& [pid, p] : c->second.processes) {
          if (!p->exited()) {
            list.push_back(nlohmann::ordered_json{{"ProcessId", pid}});
          }
        }
        props["ProcessList"] = list;
      } else if (t == "Statistics") {
        props["LCOWMetrics"] = nlohmann::ordered_json::object();
      }
    }
  }
  auto r = ok_response(act);
  r.properties = gojson::go_dump(props);
  return r;
}

bridge::response service::modify_settings(const std::string& body) {
  auto req = bridge::parse_modify_settings(body);
  if (!req) {
    return bad_body(req.err());
  }
  const auto& act = req->base.activity_id;
  if (req->base.container_id != bridge::zero_guid) {
    return bridge::failure(fail, "only the utility VM's settings can be modified", act);
  }
  if (auto& faults = opts_.modify_faults; faults) {
    auto left = faults->load();
    while (left > 0 && !faults->compare_exchange_weak(left, left - 1)) {
    }
    if (left > 0) {
      return bridge::failure(fail, "injected guest fault", act);
    }
  }
  bridge::mount_table::guest_step step;
  if (mounter_) {
    step = [this](const std::string& type, const std::string& request_type, const json& settings) {
      auto request = parse_mount_request(type, request_type, settings);
      if (!request) {
        return hcs::call_result::failure(fail, request.err().text);
      }
      if (auto e = mounter_->apply(*request)) {
        return hcs::call_result::failure(fail, e.text);
      }
      return hcs::call_result::success();
    };
  }
  auto r = mounts_->modify_settings(req->request, step);
  if (!r.ok()) {
    return bridge::failure(r.hresult, r.message, act);
  }
  return ok_response(act);
}

bridge::response service::dump_stacks(const std::string& body) {
  auto req = bridge::parse_base(body);
  if (!req) {
    return bad_body(req.err());
  }
  auto r = ok_response(req->activity_id);
  r.guest_stacks = thread_dump();
  return r;
}

} // namespace uvm::guest
