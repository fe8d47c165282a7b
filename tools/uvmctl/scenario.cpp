#include "tools/uvmctl/scenario.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <functional>
#include <istream>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"
#include "hcs/host_path.hpp"
#include "tools/uvmctl/options_json.hpp"
#include "tools/uvmctl/scenario_args.hpp"
#include "tools/uvmctl/scenario_line.hpp"
#include "tools/uvmctl/scenario_ops.hpp"

namespace uvm::cli {

error bad(std::string text) {
  return error{errc::bad_request, std::move(text)};
}

op_result from(const error& e) {
  if (e) {
    return e;
  }
  return json(nullptr);
}

std::string vm_name(const json& line) {
  auto i = line.find("vm");
  return i != line.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

op_result with_vm(runner& r, const json& line, const std::function<op_result(utility_vm&)>& fn) {
  auto name = vm_name(line);
  if (name.empty()) {
    return bad("missing \"vm\"");
  }
  auto i = r.vms.find(name);
  if (i == r.vms.end()) {
    return bad("unknown vm '" + name + "'");
  }
  return fn(i->second);
}

std::string activity_of(const json& line) {
  auto i = line.find("activity_id");
  return i != line.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

result<std::string> string_arg(const json& line, const char* name) {
  auto i = line.find(name);
  if (i == line.end() || i->is_null()) {
    return bad(std::string{"missing string argument \""} + name + "\"");
  }
  if (!i->is_string()) {
    return bad(std::string{"\""} + name + "\" must be a string, got " + describe_json(*i));
  }
  return i->get<std::string>();
}

namespace {

// The engine a new VM goes to: the line's "node", else the one with the
// fewest VMs (the first of equals).
result<engine*> place(runner& r, const json& line) {
  if (r.engines.size() <= 1) {
    return &r.eng;
  }
  auto i = line.find("node");
  if (i != line.end()) {
    if (i->is_number_unsigned() && i->get<size_t>() < r.engines.size()) {
      return r.engines[i->get<size_t>()];
    }
    if (i->is_string()) {
      for (auto* e : r.engines) {
        if (e->node() == i->get<std::string>()) {
          return e;
        }
      }
    }
    return bad("\"node\" names no node of this run: " + i->dump());
  }
  engine* best = nullptr;
  size_t fewest = 0;
  for (auto* e : r.engines) {
    auto vms = e->list();
    if (!vms) {
      return vms.err();
    }
    if (best == nullptr || vms->size() < fewest) {
      best = e;
      fewest = vms->size();
    }
  }
  return best;
}

template <class Parse, class Create>
op_result create_op(runner& r, const json& line, Parse parse, Create create) {
  auto name = vm_name(line);
  if (name.empty()) {
    return bad("missing \"vm\"");
  }
  if (r.vms.count(name) > 0) {
    return bad("vm '" + name + "' already exists in this scenario");
  }
  auto member = [&](const char* key) { return line.contains(key) ? line[key] : json(nullptr); };
  auto target = place(r, line);
  if (!target) {
    return target.err();
  }
  auto opts = parse(member("options"), (*target)->config().host);
  if (!opts) {
    return opts.err();
  }
  auto policy = restart_policy_from_json(member("restart_policy"));
  if (!policy) {
    return policy.err();
  }
  auto vm = create(**target, std::move(*opts), *policy, activity_of(line));
  if (!vm) {
    return vm.err();
  }
  r.vms.emplace(name, *vm);
  r.placed[name] = *target;
  return json{{"id", vm->id()}, {"os", vm->os()}, {"processor_count", vm->processor_count()}};
}

json stats_json(const vm_stats& s) {
  json memory = {{"WorkingSetBytes", s.memory_working_set_bytes}};
  if (s.has_vm_memory) {
    memory["VirtualNodeCount"] = s.memory_virtual_node_count;
    memory["VmMemory"] = {{"AvailableMemory", s.vm_memory.available_memory},
                          {"AvailableMemoryBuffer", s.vm_memory.available_memory_buffer},
                          {"ReservedMemory", s.vm_memory.reserved_memory},
                          {"AssignedMemory", s.vm_memory.assigned_memory},
                          {"SlpActive", s.vm_memory.slp_active},
                          {"BalancingEnabled", s.vm_memory.balancing_enabled},
                          {"DmOperationInProgress", s.vm_memory.dm_operation_in_progress}};
  }
  return {{"Processor", {{"TotalRuntimeNS", s.processor_total_runtime_ns}}}, {"Memory", memory}};
}

json info_json(const vm_info& i) {
  return {{"id", i.id},
          {"owner", i.owner},
          {"os", i.os},
          {"processor_count", i.processor_count},
          {"memory_size_in_mb", i.memory_size_in_mb},
          {"state", to_string(i.state)},
          {"restarts", i.restarts}};
}

// The id of the system the line's "vm" names (for simulator controls).
result<std::string> sim_target(runner& r, const json& line, bool required) {
  auto name = vm_name(line);
  if (name.empty()) {
    if (required) {
      return bad("missing \"vm\"");
    }
    return std::string{};
  }
  auto i = r.vms.find(name);
  if (i == r.vms.end()) {
    return bad("unknown vm '" + name + "'");
  }
  return i->second.id();
}

// A simulator control without a result (the embedded simulator, or a node's).
// The engine of the line's VM, else every engine.
std::vector<engine*> sim_engines(runner& r, const json& line) {
  auto i = r.placed.find(vm_name(line));
  if (i != r.placed.end()) {
    return {i->second};
  }
  if (r.engines.empty()) {
    return {&r.eng};
  }
  return r.engines;
}

op_result sim_op(runner& r, const json& line, const sim_control& c) {
  for (auto* e : sim_engines(r, line)) {
    auto done = e->control_sim(c);
    if (!done) {
      return done.err();
    }
  }
  return json(nullptr);
}

json mount_json(const scsi_mount& m) {
  return {{"HostPath", m.host_path},
          {"UVMPath", m.uvm_path},
          {"Controller", m.controller},
          {"LUN", m.lun}};
}

op_result add_scsi_op(runner& r, const json& line, bool physical) {
  return with_vm(r, line, [&](utility_vm& vm) -> op_result {
    auto host_path = string_arg(line, "host_path");
    if (!host_path) {
      return host_path.err();
    }
    auto access = vm_access_of(line);
    if (!access) {
      return access.err();
    }
    field_reader args{line};
    auto uvm_path = args.text("uvm_path");
    auto read_only = args.flag("read_only");
    if (args.err()) {
      return args.err();
    }
    auto m = physical
                 ? vm.add_scsi_physical_disk(*host_path, uvm_path, read_only, activity_of(line))
                 : vm.add_scsi(*host_path, uvm_path, read_only, *access, activity_of(line));
    if (!m) {
      return m.err();
    }
    return mount_json(*m);
  });
}

op_table base_ops() {
  return {
      {"create_lcow",
       {"vm [options] [restart_policy] [node]",
        [](runner& r, const json& line) {
          auto parse = [](const json& j, const host_info& host) {
            return lcow_options_from_json(j, host);
          };
          return create_op(r, line, parse,
                           [](engine& e, options_lcow o, restart_policy p, const std::string& a) {
                             return e.create_lcow(std::move(o), p, a);
                           });
        }}},
      {"create_wcow",
       {"vm [options] [restart_policy] [node]",
        [](runner& r, const json& line) {
          return create_op(r, line, wcow_options_from_json,
                           [](engine& e, options_wcow o, restart_policy p, const std::string& a) {
                             return e.create_wcow(std::move(o), p, a);
                           });
        }}},
      {"start",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line,
                         [&](utility_vm& vm) { return from(vm.start(activity_of(line))); });
        }}},
      {"wait",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) { return from(vm.wait()); });
        }}},
      {"terminate",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line,
                         [&](utility_vm& vm) { return from(vm.terminate(activity_of(line))); });
        }}},
      {"shutdown",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line,
                         [&](utility_vm& vm) { return from(vm.shutdown(activity_of(line))); });
        }}},
      {"close",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line,
                         [&](utility_vm& vm) { return from(vm.close(activity_of(line))); });
        }}},
      {"exit_error",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) { return from(vm.exit_error()); });
        }}},
      {"id",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) -> op_result { return json(vm.id()); });
        }}},
      {"os",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) -> op_result { return json(vm.os()); });
        }}},
      {"is_oci",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) -> op_result { return json(vm.is_oci()); });
        }}},
      {"processor_count",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line,
                         [](utility_vm& vm) -> op_result { return json(vm.processor_count()); });
        }}},
      {"stats",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [&](utility_vm& vm) -> op_result {
            auto s = vm.stats(activity_of(line));
            if (!s) {
              return s.err();
            }
            return stats_json(*s);
          });
        }}},
      {"container_counter",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) { return from(vm.container_counter()); });
        }}},
      {"uvm_mount_counter",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) { return from(vm.uvm_mount_counter()); });
        }}},
      {"info",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) -> op_result {
            auto i = vm.info();
            if (!i) {
              return i.err();
            }
            return info_json(*i);
          });
        }}},
      {"exits",
       {"",
        [](runner& r, const json&) -> op_result {
          std::vector<exit_record> all;
          for (auto* eng : r.engines.empty() ? std::vector<engine*>{&r.eng} : r.engines) {
            auto ex = eng->exits();
            if (!ex) {
              return ex.err();
            }
            all.insert(all.end(), ex->begin(), ex->end());
          }
          json out = json::array();
          for (const auto& e : all) {
            out.push_back({{"id", e.vm_id},
                           {"unexpected", e.unexpected},
                           {"exit_error", e.exit_error},
                           {"action", e.action},
                           {"restarts", e.restarts}});
          }
          return out;
        }}},
      {"add_scsi",
       {"vm host_path [uvm_path] [read_only] [vm_access]",
        [](runner& r, const json& line) { return add_scsi_op(r, line, false); }}},
      {"add_scsi_physical_disk",
       {"vm host_path [uvm_path] [read_only]",
        [](runner& r, const json& line) { return add_scsi_op(r, line, true); }}},
      {"remove_scsi",
       {"vm host_path",
        [](runner& r, const json& line) {
          return with_vm(r, line, [&](utility_vm& vm) -> op_result {
            auto host_path = string_arg(line, "host_path");
            if (!host_path) {
              return host_path.err();
            }
            return from(vm.remove_scsi(*host_path, activity_of(line)));
          });
        }}},
      {"get_scsi_uvm_path",
       {"vm host_path",
        [](runner& r, const json& line) {
          return with_vm(r, line, [&](utility_vm& vm) -> op_result {
            auto host_path = string_arg(line, "host_path");
            if (!host_path) {
              return host_path.err();
            }
            return from(vm.get_scsi_uvm_path(*host_path));
          });
        }}},
      {"device_view",
       {"vm",
        [](runner& r, const json& line) {
          return with_vm(r, line, [](utility_vm& vm) -> op_result {
            auto v = vm.device_view();
            if (!v) {
              return v.err();
            }
            return json::parse(*v);
          });
        }}},
      {"guest_fail",
       {"vm [count]",
        [](runner& r, const json& line) {
          return with_vm(r, line, [&](utility_vm& vm) -> op_result {
            field_reader args{line};
            auto count = args.integer<uint32_t>("count", 1);
            if (args.err()) {
              return args.err();
            }
            vm.guest_fail(count);
            return json(nullptr);
          });
        }}},
      {"sim_fail",
       {"call [count] [probability] [vm]",
        [](runner& r, const json& line) -> op_result {
          auto a = sim_fail_of(line);
          auto target = sim_target(r, line, false);
          if (!a) {
            return a.err();
          }
          if (!target) {
            return target.err();
          }
          sim_control c;
          c.what = a->by_probability ? sim_control::kind::fail_with_probability
                                     : sim_control::kind::fail_next;
          c.call = static_cast<uint8_t>(a->call);
          c.probability = a->probability;
          c.count = a->count;
          c.target = *target;
          return sim_op(r, line, c);
        }}},
      {"sim_crash",
       {"vm [after_calls] [after_ms]",
        [](runner& r, const json& line) -> op_result {
          auto target = sim_target(r, line, true);
          if (!target) {
            return target.err();
          }
          auto a = sim_crash_of(line);
          if (!a) {
            return a.err();
          }
          sim_control c;
          c.target = *target;
          switch (a->when) {
          case sim_crash_args::when::after_calls:
            c.what = sim_control::kind::crash_after_calls;
            c.count = a->calls;
            break;
          case sim_crash_args::when::after_delay:
            c.what = sim_control::kind::crash_after_delay;
            c.min_us = std::chrono::duration_cast<std::chrono::microseconds>(a->delay).count();
            break;
          case sim_crash_args::when::now:
            c.what = sim_control::kind::crash_now;
            break;
          }
          return sim_op(r, line, c);
        }}},
      {"sim_latency",
       {"call [ms] [min_ms] [max_ms]",
        [](runner& r, const json& line) -> op_result {
          auto a = latency_of(line);
          if (!a) {
            return a.err();
          }
          sim_control c;
          c.what = sim_control::kind::latency;
          c.call = static_cast<uint8_t>(a->call);
          c.min_us = std::chrono::duration_cast<std::chrono::microseconds>(a->min).count();
          c.max_us = std::chrono::duration_cast<std::chrono::microseconds>(a->max).count();
          return sim_op(r, line, c);
        }}},
      {"sim_oracle",
       {"[vm]",
        [](runner& r, const json& line) -> op_result {
          sim_control c;
          c.what = sim_control::kind::oracle;
          auto oracle = sim_engines(r, line).front()->control_sim(c);
          if (!oracle) {
            return oracle.err();
          }
          return json::parse(*oracle);
        }}},
      {"sleep",
       {"[ms]",
        [](runner&, const json& line) -> op_result {
          field_reader args{line};
          auto ms = duration_ms(args, "ms", std::chrono::milliseconds{0});
          if (args.err()) {
            return args.err();
          }
          std::this_thread::sleep_for(ms);
          return json(nullptr);
        }}},
  };
}

const op_table& ops() {
  static const op_table table = [] {
    auto t = base_ops();
    add_device_ops(t);
    add_guest_ops(t);
    return t;
  }();
  return table;
}

// Members in the documented order: line, op, ok, result|error.
nlohmann::ordered_json output(size_t line_no, const json& op, const op_result& res) {
  nlohmann::ordered_json out;
  out["line"] = line_no;
  out["op"] = op;
  if (res) {
    out["ok"] = true;
    out["result"] = *res;
  } else {
    out["ok"] = false;
    out["error"] = res.err().text;
  }
  return out;
}

nlohmann::ordered_json run_line(runner& r, const std::string& text, size_t line_no) {
  auto line = parse_scenario_line(text);
  if (!line) {
    return output(line_no, nullptr, line.err());
  }
  auto i = line->find("op");
  json op = i != line->end() && i->is_string() ? *i : json(nullptr);
  if (auto e = check_line_members(*line)) {
    return output(line_no, op, e);
  }
  auto name = op.get<std::string>();
  auto fn = ops().find(name);
  if (fn == ops().end()) {
    return output(line_no, op, bad("unknown op '" + name + "'"));
  }
  return output(line_no, op, fn->second.run(r, *line));
}

} // namespace

std::string scenario_ops_help() {
  std::string text =
      "Ops of a scenario line, {\"op\": NAME, MEMBER: VALUE, ...}, and the members each "
      "reads ([x] optional, (a | b) one of them; every op may also carry "
      "\"activity_id\"):\n";
  size_t width = 0;
  for (const auto& [name, o] : ops()) {
    width = std::max(width, name.size());
  }
  for (const auto& [name, o] : ops()) {
    text += "  " + name + std::string(width - name.size() + 2, ' ') +
            (o.arguments.empty() ? "-" : o.arguments) + "\n";
  }
  return text;
}

int run_scenario(engine& eng, std::istream& in, std::ostream& out, const scenario_options& opts) {
  return run_scenario(std::vector<engine*>{&eng}, in, out, opts);
}

int run_scenario(const std::vector<engine*>& engines, std::istream& in, std::ostream& out,
                 const scenario_options& opts) {
  engine& eng = *engines.front();
  std::ofstream hcs_log;
  std::mutex hcs_log_mutex;
  if (!opts.hcs_log_path.empty()) {
    hcs_log.open(opts.hcs_log_path, std::ios::trunc);
    if (!hcs_log) {
      out << json{{"error", "cannot open --hcs-log file " + opts.hcs_log_path + ": " +
                                hcs::go_errno_text(errno)}}
                 .dump()
          << "\n";
      return 2;
    }
    eng.sim().set_call_log([&](const std::string& line) {
      std::lock_guard<std::mutex> lock{hcs_log_mutex};
      hcs_log << line << "\n";
      hcs_log.flush();
    });
  }
  std::ofstream bridge_log;
  std::mutex bridge_log_mutex;
  if (!opts.bridge_log_path.empty()) {
    bridge_log.open(opts.bridge_log_path, std::ios::trunc);
    if (!bridge_log) {
      out << json{{"error", "cannot open --bridge-log file " + opts.bridge_log_path + ": " +
                                hcs::go_errno_text(errno)}}
                 .dump()
          << "\n";
      return 2;
    }
    eng.set_bridge_log([&](const std::string& line) {
      std::lock_guard<std::mutex> lock{bridge_log_mutex};
      bridge_log << line << "\n";
      bridge_log.flush();
    });
  }
  runner r{eng, {}, {}, {}, engines, {}};
  line_reader lines{in};
  std::string text;
  for (auto st = lines.next(text); st != line_reader::status::end; st = lines.next(text)) {
    nlohmann::ordered_json result;
    if (st == line_reader::status::too_long) {
      result = output(lines.number(), nullptr, bad(line_too_long(lines)));
    } else if (blank_line(text)) {
      continue;
    } else {
      result = run_line(r, text, lines.number());
    }
    // A process's output may hold bytes that are not UTF-8.
    out << result.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
  }
  // Later calls (engine teardown) must not write into a closed log.
  if (eng.has_local_sim()) {
    eng.sim().set_call_log(nullptr);
  }
  eng.set_bridge_log(nullptr);
  // A node keeps its VMs after a client leaves: a scenario leaves none
  // behind, as its embedded engine's end would not.
  if (!eng.node().empty() && !opts.keep_vms) {
    r.processes.clear();
    r.containers.clear();
    for (auto& [name, vm] : r.vms) {
      vm.close();
    }
  }
  return in.bad() ? 2 : 0;
}

} // namespace uvm::cli
