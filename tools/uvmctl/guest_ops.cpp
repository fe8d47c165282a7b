// Scenario ops for containers and processes in a VM's guest, through the
// GCS bridge (uvm-api.md §6, §15). A process runs to its end by default
// and its result carries its output and exit code; a detached one is kept
// under a name for signal_process and wait_process.
#include "tools/uvmctl/scenario_ops.hpp"

namespace uvm::cli {

namespace {

std::string key(const json& line, const std::string& name) {
  return line.value("vm", std::string{}) + "/" + name;
}

result<std::vector<std::string>> string_list(const json& line, const char* name) {
  std::vector<std::string> out;
  auto i = line.find(name);
  if (i == line.end() || i->is_null()) {
    return out;
  }
  if (i->is_array()) {
    for (const auto& v : *i) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
    if (out.size() == i->size()) {
      return out;
    }
  }
  return bad(std::string{"\""} + name + "\" must be an array of strings");
}

// CreateContainer's settings: the line's `settings` (an object or its JSON
// text), or a v2.1 document made from `args`, `env` ("K=V") and `cwd`.
result<std::string> container_settings(const json& line) {
  if (auto i = line.find("settings"); i != line.end()) {
    if (i->is_string()) {
      return i->get<std::string>();
    }
    if (i->is_object()) {
      return i->dump();
    }
    return bad("\"settings\" must be an object or its JSON text");
  }
  auto args = string_list(line, "args");
  auto env = string_list(line, "env");
  if (!args || !env) {
    return !args ? args.err() : env.err();
  }
  if (args->empty()) {
    return bad("create_container needs \"settings\" or \"args\"");
  }
  json process = {{"args", *args}, {"cwd", line.value("cwd", "/")}};
  process["env"] =
      env->empty() ? std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} : *env;
  json doc = {{"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
              {"OciSpecification", {{"process", process}}}};
  return doc.dump();
}

result<process_parameters> process_parameters_of(const json& line) {
  process_parameters p;
  auto args = string_list(line, "args");
  if (!args) {
    return args.err();
  }
  p.command_args = *args;
  p.command_line = line.value("command_line", std::string{});
  p.working_directory = line.value("working_directory", std::string{});
  if (auto env = line.find("environment"); env != line.end() && !env->is_null()) {
    if (!env->is_object()) {
      return bad("\"environment\" must be an object of strings");
    }
    for (auto it = env->begin(); it != env->end(); ++it) {
      if (!it.value().is_string()) {
        return bad("\"environment\" must be an object of strings");
      }
      p.environment[it.key()] = it.value().get<std::string>();
    }
  }
  bool in_container = line.contains("container_id");
  bool init = line.value("init", false);
  if (!in_container && p.command_args.empty() && p.command_line.empty()) {
    return bad("create_process needs \"args\" or \"command_line\"");
  }
  if (in_container && !init) {
    // An exec in an LCOW container carries its OCI process spec.
    if (p.command_args.empty()) {
      return bad("a process in a container needs \"args\" (or \"init\": true)");
    }
    json oci = {{"args", p.command_args},
                {"cwd", p.working_directory.empty() ? "/" : p.working_directory}};
    std::vector<std::string> env;
    for (const auto& [k, v] : p.environment) {
      env.push_back(k + "=" + v);
    }
    if (!env.empty()) {
      oci["env"] = env;
    }
    p.oci_process = oci.dump();
  }
  return p;
}

op_result create_process_op(runner& r, const json& line) {
  return with_vm(r, line, [&](utility_vm& vm) -> op_result {
    auto params = process_parameters_of(line);
    if (!params) {
      return params.err();
    }
    auto stdin_text = line.find("stdin");
    if (stdin_text != line.end() && !stdin_text->is_string()) {
      return bad("\"stdin\" must be text");
    }
    bool detach = line.value("detach", false);
    // A detached process's output is not collected: no pipes.
    params->create_stdin = !detach && stdin_text != line.end();
    params->create_stdout = params->create_stderr = !detach;
    auto cid = line.value("container_id", std::string{});
    result<guest_process> p = error{};
    if (cid.empty()) {
      p = vm.create_process(params->to_json(), activity_of(line));
    } else {
      auto c = r.containers.find(key(line, cid));
      if (c == r.containers.end()) {
        return bad("unknown container '" + cid + "' (create_container first)");
      }
      p = c->second.create_process(params->to_json(), activity_of(line));
    }
    if (!p) {
      return p.err();
    }
    if (detach) {
      auto name = line.value("name", std::to_string(p->pid()));
      r.processes[key(line, name)] = *p;
      return json{{"pid", p->pid()}, {"process", name}};
    }
    auto input = stdin_text != line.end() ? stdin_text->get<std::string>() : std::string{};
    auto output = p->communicate(input);
    if (!output) {
      return output.err();
    }
    auto code = p->wait();
    if (!code) {
      return code.err();
    }
    return json{
        {"pid", p->pid()}, {"stdout", output->out}, {"stderr", output->err}, {"exit_code", *code}};
  });
}

// Runs `fn` on the detached process the line's "process" names.
op_result with_process(runner& r, const json& line,
                       const std::function<op_result(guest_process&)>& fn) {
  return with_vm(r, line, [&](utility_vm&) -> op_result {
    auto i = line.find("process");
    if (i == line.end() || !(i->is_string() || i->is_number_unsigned())) {
      return bad("missing \"process\" (the name or pid of a detached create_process)");
    }
    auto name = i->is_string() ? i->get<std::string>() : std::to_string(i->get<uint32_t>());
    auto p = r.processes.find(key(line, name));
    if (p == r.processes.end()) {
      return bad("unknown process '" + name + "'");
    }
    return fn(p->second);
  });
}

// Runs `fn` on the container the line's "id" names.
op_result with_container(runner& r, const json& line,
                         const std::function<op_result(guest_container&)>& fn) {
  return with_vm(r, line, [&](utility_vm&) -> op_result {
    auto id = string_arg(line, "id");
    if (!id) {
      return id.err();
    }
    auto c = r.containers.find(key(line, *id));
    if (c == r.containers.end()) {
      return bad("unknown container '" + *id + "'");
    }
    return fn(c->second);
  });
}

json capabilities_json(const guest_capabilities_info& c) {
  return {{"protocol", c.protocol},
          {"GuestDefinedCapabilities",
           {{"NamespaceAddRequestSupported", c.namespace_add_request_supported},
            {"SignalProcessSupported", c.signal_process_supported},
            {"DumpStacksSupported", c.dump_stacks_supported},
            {"DeleteContainerStateSupported", c.delete_container_state_supported}}}};
}

} // namespace

void add_guest_ops(op_table& t) {
  t["create_container"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) -> op_result {
      auto id = string_arg(line, "id");
      if (!id) {
        return id.err();
      }
      auto settings = container_settings(line);
      if (!settings) {
        return settings.err();
      }
      auto c = vm.create_container(*id, *settings, activity_of(line));
      if (!c) {
        return c.err();
      }
      r.containers[key(line, *id)] = *c;
      return json(nullptr);
    });
  };
  t["start_container"] = [](runner& r, const json& line) {
    return with_container(r, line,
                          [&](guest_container& c) { return from(c.start(activity_of(line))); });
  };
  t["shutdown_container"] = [](runner& r, const json& line) {
    return with_container(r, line,
                          [&](guest_container& c) { return from(c.shutdown(activity_of(line))); });
  };
  t["terminate_container"] = [](runner& r, const json& line) {
    return with_container(r, line,
                          [&](guest_container& c) { return from(c.terminate(activity_of(line))); });
  };
  t["wait_container"] = [](runner& r, const json& line) {
    return with_container(r, line, [&](guest_container& c) { return from(c.wait()); });
  };
  t["create_process"] = create_process_op;
  t["signal_process"] = [](runner& r, const json& line) {
    return with_process(r, line, [&](guest_process& p) -> op_result {
      auto signal = line.value("signal", 0);
      return from(p.signal(signal, activity_of(line)));
    });
  };
  t["wait_process"] = [](runner& r, const json& line) {
    return with_process(r, line, [&](guest_process& p) -> op_result {
      auto code = p.wait();
      if (!code) {
        return code.err();
      }
      return json{{"exit_code", *code}};
    });
  };
  t["dump_stacks"] = [](runner& r, const json& line) {
    return with_vm(r, line,
                   [&](utility_vm& vm) { return from(vm.dump_stacks(activity_of(line))); });
  };
  t["delete_container_state"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) -> op_result {
      auto cid = string_arg(line, "cid");
      if (!cid) {
        return cid.err();
      }
      return from(vm.delete_container_state(*cid, activity_of(line)));
    });
  };
  t["capabilities"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) -> op_result {
      auto caps = vm.capabilities();
      if (!caps) {
        return caps.err();
      }
      return capabilities_json(*caps);
    });
  };
  t["signal_process_supported"] = [](runner& r, const json& line) {
    return with_vm(
        r, line, [&](utility_vm& vm) -> op_result { return json(vm.signal_process_supported()); });
  };
  t["delete_container_state_supported"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) -> op_result {
      return json(vm.delete_container_state_supported());
    });
  };
}

} // namespace uvm::cli
