// Scenario ops for containers and processes in a VM's guest, through the
// GCS bridge (uvm-api.md §6, §15). A process runs to its end by default
// and its result carries its output and exit code; a detached one is kept
// under a name for signal_process and wait_process.
#include "tools/uvmctl/scenario_args.hpp"
#include "tools/uvmctl/scenario_ops.hpp"

namespace uvm::cli {

namespace {

std::string key(const json& line, const std::string& name) {
  return vm_name(line) + "/" + name;
}

op_result create_process_op(runner& r, const json& line) {
  return with_vm(r, line, [&](utility_vm& vm) -> op_result {
    auto a = process_args_of(line);
    if (!a) {
      return a.err();
    }
    result<guest_process> p = error{};
    if (a->container_id.empty()) {
      p = vm.create_process(a->params.to_json(), activity_of(line));
    } else {
      auto c = r.containers.find(key(line, a->container_id));
      if (c == r.containers.end()) {
        return bad("unknown container '" + a->container_id + "' (create_container first)");
      }
      p = c->second.create_process(a->params.to_json(), activity_of(line));
    }
    if (!p) {
      return p.err();
    }
    if (a->detach) {
      auto name = a->name.empty() ? std::to_string(p->pid()) : a->name;
      r.processes[key(line, name)] = *p;
      return json{{"pid", p->pid()}, {"process", name}};
    }
    auto output = p->communicate(a->stdin_text);
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
    auto name = process_name_of(line);
    if (!name) {
      return name.err();
    }
    auto p = r.processes.find(key(line, *name));
    if (p == r.processes.end()) {
      return bad("unknown process '" + *name + "'");
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
  t["create_container"] = {"vm id (settings | args [env] [cwd])", [](runner& r, const json& line) {
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
                           }};
  t["start_container"] = {"vm id", [](runner& r, const json& line) {
                            return with_container(r, line, [&](guest_container& c) {
                              return from(c.start(activity_of(line)));
                            });
                          }};
  t["shutdown_container"] = {"vm id", [](runner& r, const json& line) {
                               return with_container(r, line, [&](guest_container& c) {
                                 return from(c.shutdown(activity_of(line)));
                               });
                             }};
  t["terminate_container"] = {"vm id", [](runner& r, const json& line) {
                                return with_container(r, line, [&](guest_container& c) {
                                  return from(c.terminate(activity_of(line)));
                                });
                              }};
  t["wait_container"] = {"vm id", [](runner& r, const json& line) {
                           return with_container(
                               r, line, [&](guest_container& c) { return from(c.wait()); });
                         }};
  t["create_process"] = {"vm (args | command_line) [stdin] [environment] [working_directory] "
                         "[container_id] [init] [detach] [name]",
                         create_process_op};
  t["signal_process"] = {"vm process [signal]", [](runner& r, const json& line) {
                           return with_process(r, line, [&](guest_process& p) -> op_result {
                             // Absent: 0, which the guest takes for kill.
                             field_reader args{line};
                             auto signal = args.integer<int32_t>("signal", 0);
                             if (args.err()) {
                               return args.err();
                             }
                             return from(p.signal(signal, activity_of(line)));
                           });
                         }};
  t["wait_process"] = {"vm process", [](runner& r, const json& line) {
                         return with_process(r, line, [&](guest_process& p) -> op_result {
                           auto code = p.wait();
                           if (!code) {
                             return code.err();
                           }
                           return json{{"exit_code", *code}};
                         });
                       }};
  t["dump_stacks"] = {"vm", [](runner& r, const json& line) {
                        return with_vm(r, line, [&](utility_vm& vm) {
                          return from(vm.dump_stacks(activity_of(line)));
                        });
                      }};
  t["delete_container_state"] = {"vm cid", [](runner& r, const json& line) {
                                   return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                                     auto cid = string_arg(line, "cid");
                                     if (!cid) {
                                       return cid.err();
                                     }
                                     return from(
                                         vm.delete_container_state(*cid, activity_of(line)));
                                   });
                                 }};
  t["capabilities"] = {"vm", [](runner& r, const json& line) {
                         return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                           auto caps = vm.capabilities();
                           if (!caps) {
                             return caps.err();
                           }
                           return capabilities_json(*caps);
                         });
                       }};
  t["signal_process_supported"] = {"vm", [](runner& r, const json& line) {
                                     return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                                       return json(vm.signal_process_supported());
                                     });
                                   }};
  t["delete_container_state_supported"] = {
      "vm", [](runner& r, const json& line) {
        return with_vm(r, line, [&](utility_vm& vm) -> op_result {
          return json(vm.delete_container_state_supported());
        });
      }};
}

} // namespace uvm::cli
