// The service's containers and processes (gcs-bridge.md §7.2-§7.9): create,
// start and stop containers, execute, wait for, signal and resize processes.
#include "guest/service.hpp"

#include <csignal>
#include <cstring>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"
#include "guest/process_params.hpp"
#include "guest/service_replies.hpp"

namespace uvm::guest {

namespace {

using bridge::hresult::fail;
using bridge::hresult::invalid_json;
using bridge::hresult::not_found;
using bridge::hresult::system_not_found;
using json = nlohmann::json;

} // namespace

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

// Outside the service's lock: a descriptor's log channel may block.
void service::log_started(const std::string& container_id, uint32_t pid,
                          const std::string& activity) const {
  if (opts_.log) {
    opts_.log->log(log_level::info, "process started",
                   {{"cid", container_id}, {"pid", pid}, {"activityID", activity}});
  }
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
    log_started(cid, (*p)->pid(), act);
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
    log_started(cid, (*p)->pid(), act);
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
  bool in_uvm = req->base.container_id == bridge::zero_guid;
  spawn([this, type, id, p, timeout, act, in_uvm, pid = req->process_id] {
    auto code = p->wait_for(timeout);
    if (!code) {
      reply(type, id,
            bridge::failure(bridge::hresult::wait_timeout,
                            "timed out waiting for process " + std::to_string(pid), act));
      return;
    }
    if (in_uvm) {
      // Its exit is delivered: the host keeps it from here (one wait per
      // process), and a VM that runs processes for months must not keep
      // every one it ever ran.
      std::lock_guard<std::mutex> lock{mutex_};
      auto i = uvm_processes_.find(pid);
      if (i != uvm_processes_.end() && i->second == p) {
        uvm_processes_.erase(i);
      }
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
