#include "guest/service.hpp"

#include "guest/process_params.hpp"

#include <csignal>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"

namespace uvm::guest {

namespace {

using bridge::hresult::fail;
using bridge::hresult::invalid_json;
using bridge::hresult::not_found;
using bridge::hresult::not_impl;
using bridge::hresult::system_not_found;
using json = nlohmann::json;

bridge::response ok_response(const std::string& activity_id) {
  bridge::response r;
  r.activity_id = activity_id;
  return r;
}

// An unparsable body has no ActivityId to echo.
bridge::response bad_body(const error& e) {
  return bridge::failure(invalid_json, e.text, std::nullopt);
}

} // namespace

void warn(const service_options& options, const std::string& message) {
  if (options.warn) {
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
    p->abandon();
  }
  std::vector<worker> threads;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    threads = std::move(threads_);
  }
  for (auto& w : threads) {
    w.thread.join();
  }
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
    reply(f.type, f.id, execute_process(f.body));
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
  auto r = ok_response(req->base.activity_id);
  r.version = bridge::protocol_version;
  r.capabilities = bridge::linux_capabilities();
  return r;
}

bridge::response service::create(const std::string& body) {
  auto req = bridge::parse_create(body);
  if (!req) {
    return bad_body(req.err());
  }
  const auto& act = req->base.activity_id;
  auto config = json::parse(req->container_config, nullptr, false);
  if (!config.is_object()) {
    return bridge::failure(invalid_json, "invalid ContainerConfig JSON", act);
  }
  const auto* schema = member(config, "SchemaVersion");
  int major = schema != nullptr ? schema->value("Major", 0) : 0;
  int minor = schema != nullptr ? schema->value("Minor", 0) : 0;
  if (major < 2 || (major == 2 && minor < 1)) {
    return bridge::failure(invalid_json,
                           "invalid schema version: {" + std::to_string(major) + " " +
                               std::to_string(minor) + "}",
                           act);
  }
  const auto* spec = member(config, "OciSpecification");
  const auto* oci_process = spec != nullptr ? member(*spec, "process") : nullptr;
  if (oci_process == nullptr) {
    return bridge::failure(invalid_json, "the OCI specification has no process", act);
  }
  auto init = oci_process_spec(*oci_process);
  if (!init) {
    return bridge::failure(invalid_json, init.err().text, act);
  }
  const auto* root = member(*spec, "root");
  std::lock_guard<std::mutex> lock{mutex_};
  if (containers_.count(req->base.container_id) != 0) {
    return bridge::failure(bridge::hresult::already_exists,
                           "container " + req->base.container_id + " already exists", act);
  }
  auto& c = containers_[req->base.container_id];
  c.activity_id = act;
  c.init = std::move(*init);
  c.root = root != nullptr ? text(*root, "path") : std::string{};
  auto r = ok_response(act);
  r.selected_protocol_version = 0;
  return r;
}

bridge::response service::start(const std::string& body) {
  auto req = bridge::parse_base(body);
  if (!req) {
    return bad_body(req.err());
  }
  std::lock_guard<std::mutex> lock{mutex_};
  if (req->container_id != bridge::zero_guid && containers_.count(req->container_id) == 0) {
    return bridge::failure(system_not_found, "container " + req->container_id + " not found",
                           req->activity_id);
  }
  return ok_response(req->activity_id); // the first ExecuteProcess starts the init
}

bridge::response service::shutdown(const std::string& body, bool forced) {
  auto req = bridge::parse_base(body);
  if (!req) {
    return bad_body(req.err());
  }
  std::lock_guard<std::mutex> lock{mutex_};
  if (req->container_id == bridge::zero_guid) {
    // Not a VM's init: there is nothing to power off. Answer, then the
    // transport ends the connection.
    stopping_ = true;
    return ok_response(req->activity_id);
  }
  auto c = containers_.find(req->container_id);
  if (c == containers_.end()) {
    return bridge::failure(system_not_found, "container " + req->container_id + " not found",
                           req->activity_id);
  }
  c->second.exit_type = forced ? "ForcedExit" : "GracefulExit";
  if (c->second.init_process) {
    c->second.init_process->signal(forced ? SIGKILL : SIGTERM);
  }
  return ok_response(req->activity_id);
}

bridge::response service::execute_process(const std::string& body) {
  auto req = bridge::parse_execute_process(body);
  if (!req) {
    return bad_body(req.err());
  }
  const auto& act = req->base.activity_id;
  auto params = json::parse(req->process_parameters, nullptr, false);
  if (!params.is_object()) {
    return bridge::failure(invalid_json, "invalid ProcessParameters JSON", act);
  }
  // Dial the requested relays first, in the order stdin, stdout, stderr.
  stdio_sockets stdio;
  auto close_all = [&] {
    for (int fd : {stdio.in, stdio.out, stdio.err}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  };
  const std::pair<const char*, std::pair<uint32_t, int*>> streams[] = {
      {"CreateStdInPipe", {req->ports.std_in, &stdio.in}},
      {"CreateStdOutPipe", {req->ports.std_out, &stdio.out}},
      {"CreateStdErrPipe", {req->ports.std_err, &stdio.err}},
  };
  for (const auto& [name, port_fd] : streams) {
    if (!flag(params, name) || port_fd.first == 0) {
      continue;
    }
    auto fd = opts_.dial_stdio ? opts_.dial_stdio(port_fd.first)
                               : dial_relay(opts_.stdio_dir, port_fd.first);
    if (!fd) {
      close_all();
      return bridge::failure(fail, fd.err().text, act);
    }
    *port_fd.second = *fd;
  }
  const auto& cid = req->base.container_id;
  std::unique_lock<std::mutex> lock{mutex_};
  if (cid == bridge::zero_guid || flag(params, "CreateInUtilityVM")) {
    lock.unlock();
    auto spec = uvm_process_spec(params);
    if (!spec) {
      close_all();
      return bridge::failure(fail, spec.err().text, act);
    }
    if (opts_.confine == confinement::sandboxed) {
      spec->sandbox = opts_.sandbox;
    }
    auto p = process::start(*spec, stdio);
    if (!p) {
      return bridge::failure(fail, p.err().text, act);
    }
    lock.lock();
    uvm_processes_[(*p)->pid()] = *p;
    auto r = ok_response(act);
    r.process_id = (*p)->pid();
    return r;
  }
  auto c = containers_.find(cid);
  if (c == containers_.end()) {
    close_all();
    return bridge::failure(system_not_found, "container " + cid + " not found", act);
  }
  const auto* oci = member(params, "OciProcess");
  bool init = oci == nullptr;
  if (init && c->second.init_process) {
    close_all();
    return bridge::failure(fail, "container " + cid + " has already started its init process", act);
  }
  process_spec spec;
  if (init) {
    spec = c->second.init;
  } else {
    auto s = oci_process_spec(*oci);
    if (!s) {
      close_all();
      return bridge::failure(invalid_json, s.err().text, act);
    }
    spec = std::move(*s);
  }
  spec.root = c->second.root;
  if (opts_.confine == confinement::sandboxed) {
    spec.sandbox = opts_.sandbox;
  }
  auto p = process::start(spec, stdio);
  if (!p) {
    return bridge::failure(fail, p.err().text, act);
  }
  c->second.processes[(*p)->pid()] = *p;
  if (init) {
    c->second.init_process = *p;
    lock.unlock();
    watch_init(cid, *p);
  }
  auto r = ok_response(act);
  r.process_id = (*p)->pid();
  return r;
}

void service::watch_init(const std::string& container_id, std::shared_ptr<process> init) {
  spawn([this, container_id, init] {
    init->wait_for(std::nullopt);
    bridge::container_notification n;
    n.container_id = container_id;
    {
      std::lock_guard<std::mutex> lock{mutex_};
      auto c = containers_.find(container_id);
      if (c != containers_.end()) {
        n.activity_id = c->second.activity_id;
        n.type = c->second.exit_type;
      }
    }
    send_(bridge::notify_container, 0, bridge::encode(n));
  });
}

void service::wait_for_process(uint32_t type, uint64_t id, const std::string& body) {
  auto req = bridge::parse_wait_for_process(body);
  if (!req) {
    reply(type, id, bad_body(req.err()));
    return;
  }
  std::shared_ptr<process> p;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (req->base.container_id == bridge::zero_guid) {
      auto i = uvm_processes_.find(req->process_id);
      p = i == uvm_processes_.end() ? nullptr : i->second;
    } else if (auto c = containers_.find(req->base.container_id); c != containers_.end()) {
      auto i = c->second.processes.find(req->process_id);
      p = i == c->second.processes.end() ? nullptr : i->second;
    }
  }
  const auto act = req->base.activity_id;
  if (!p) {
    reply(type, id,
          bridge::failure(not_found, "process " + std::to_string(req->process_id) + " not found",
                          act));
    return;
  }
  auto timeout = req->timeout_ms == bridge::infinite_timeout_ms
                     ? std::optional<std::chrono::milliseconds>{}
                     : std::optional<std::chrono::milliseconds>{req->timeout_ms};
  spawn([this, type, id, p, timeout, act, pid = req->process_id] {
    auto code = p->wait_for(timeout);
    if (!code) {
      reply(type, id,
            bridge::failure(bridge::hresult::wait_timeout,
                            "timed out waiting for process " + std::to_string(pid), act));
      return;
    }
    auto r = ok_response(act);
    r.exit_code = *code;
    reply(type, id, r);
  });
}

bridge::response service::signal_process(const std::string& body) {
  auto req = bridge::parse_signal_process(body);
  if (!req) {
    return bad_body(req.err());
  }
  const auto& act = req->base.activity_id;
  std::lock_guard<std::mutex> lock{mutex_};
  auto c = containers_.find(req->base.container_id);
  if (c == containers_.end()) {
    // Only container processes can be signalled (§7.7).
    return bridge::failure(system_not_found, "container " + req->base.container_id + " not found",
                           act);
  }
  auto p = c->second.processes.find(req->process_id);
  if (p == c->second.processes.end() || p->second->exited()) {
    return bridge::failure(not_found, "process " + std::to_string(req->process_id) + " not found",
                           act);
  }
  int signo = req->signal.value_or(0) == 0 ? SIGKILL : *req->signal;
  if (p->second.get() == c->second.init_process.get()) {
    c->second.exit_type = signo == SIGKILL ? "ForcedExit" : "GracefulExit";
  }
  if (!p->second->signal(signo)) {
    return bridge::failure(fail,
                           "failed to signal process " + std::to_string(req->process_id) + ": " +
                               std::strerror(errno),
                           act);
  }
  return ok_response(act);
}

bridge::response service::resize_console(const std::string& body) {
  auto req = bridge::parse_resize_console(body);
  if (!req) {
    return bad_body(req.err());
  }
  std::lock_guard<std::mutex> lock{mutex_};
  auto c = containers_.find(req->base.container_id);
  if (c == containers_.end()) {
    return bridge::failure(system_not_found, "container " + req->base.container_id + " not found",
                           req->base.activity_id);
  }
  auto p = c->second.processes.find(req->process_id);
  if (p == c->second.processes.end()) {
    return bridge::failure(not_found, "process " + std::to_string(req->process_id) + " not found",
                           req->base.activity_id);
  }
  if (!p->second->resize(req->height, req->width)) {
    return bridge::failure(
        fail, "pid: " + std::to_string(req->process_id) + ", is not a tty and cannot be resized",
        req->base.activity_id);
  }
  return ok_response(req->base.activity_id);
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

bridge::response service::delete_container_state(const std::string& body) {
  auto req = bridge::parse_base(body);
  if (!req) {
    return bad_body(req.err());
  }
  std::lock_guard<std::mutex> lock{mutex_};
  auto c = containers_.find(req->container_id);
  if (c == containers_.end()) {
    return bridge::failure(system_not_found, "container " + req->container_id + " not found",
                           req->activity_id);
  }
  for (auto& [pid, p] : c->second.processes) {
    if (!p->exited()) {
      return bridge::failure(fail, "container " + req->container_id + " still has processes",
                             req->activity_id);
    }
  }
  containers_.erase(c);
  return ok_response(req->activity_id);
}

} // namespace uvm::guest
