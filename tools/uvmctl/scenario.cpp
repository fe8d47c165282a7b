#include "tools/uvmctl/scenario.hpp"

#include <fstream>
#include <functional>
#include <istream>
#include <map>
#include <mutex>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"
#include "tools/uvmctl/options_json.hpp"
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

namespace {

std::string vm_name(const json& line) {
  auto i = line.find("vm");
  return i != line.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

} // namespace

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
  if (i == line.end() || !i->is_string()) {
    return bad(std::string{"missing string argument \""} + name + "\"");
  }
  return i->get<std::string>();
}

namespace {

template <class Parse, class Create>
op_result create_op(runner& r, const json& line, Parse parse, Create create) {
  auto name = vm_name(line);
  if (name.empty()) {
    return bad("missing \"vm\"");
  }
  if (r.vms.count(name) > 0) {
    return bad("vm '" + name + "' already exists in this scenario");
  }
  auto opts = parse(line.value("options", json(nullptr)), r.eng.config().host);
  if (!opts) {
    return opts.err();
  }
  auto policy = restart_policy_from_json(line.value("restart_policy", json(nullptr)));
  if (!policy) {
    return policy.err();
  }
  auto vm = create(std::move(*opts), *policy, activity_of(line));
  if (!vm) {
    return vm.err();
  }
  r.vms.emplace(name, *vm);
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

// The simulator's call kind from "call"; "" means every kind.
result<hcs::call_kind> call_of(const json& line) {
  auto name = line.value("call", std::string{});
  hcs::call_kind kind{};
  if (!hcs::parse_call_kind(name, kind)) {
    return bad("unknown call '" + name +
               "' (create, start, modify, shutdown, terminate, properties)");
  }
  return kind;
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

// VMAccessType: 0/1/2 or noop/group/individual.
result<vm_access_type> vm_access_of(const json& line) {
  auto i = line.find("vm_access");
  if (i == line.end() || i->is_null()) {
    return vm_access_type::noop;
  }
  if (i->is_number_integer() && i->get<int>() >= 0 && i->get<int>() <= 2) {
    return static_cast<vm_access_type>(i->get<int>());
  }
  if (i->is_string()) {
    auto s = i->get<std::string>();
    if (s == "noop") {
      return vm_access_type::noop;
    }
    if (s == "group") {
      return vm_access_type::group;
    }
    if (s == "individual") {
      return vm_access_type::individual;
    }
  }
  return bad("vm_access must be 0/1/2 or \"noop\"/\"group\"/\"individual\"");
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
    auto uvm_path = line.value("uvm_path", std::string{});
    auto read_only = line.value("read_only", false);
    auto m = physical
                 ? vm.add_scsi_physical_disk(*host_path, uvm_path, read_only, activity_of(line))
                 : vm.add_scsi(*host_path, uvm_path, read_only, *access, activity_of(line));
    if (!m) {
      return m.err();
    }
    return mount_json(*m);
  });
}

std::chrono::microseconds ms_of(const json& line, const char* name, int64_t fallback) {
  return std::chrono::microseconds{line.value(name, fallback) * 1000};
}

op_table base_ops() {
  return {
      {"create_lcow",
       [](runner& r, const json& line) {
         return create_op(r, line, lcow_options_from_json,
                          [&](options_lcow o, restart_policy p, const std::string& a) {
                            return r.eng.create_lcow(std::move(o), p, a);
                          });
       }},
      {"create_wcow",
       [](runner& r, const json& line) {
         return create_op(r, line, wcow_options_from_json,
                          [&](options_wcow o, restart_policy p, const std::string& a) {
                            return r.eng.create_wcow(std::move(o), p, a);
                          });
       }},
      {"start",
       [](runner& r, const json& line) {
         return with_vm(r, line, [&](utility_vm& vm) { return from(vm.start(activity_of(line))); });
       }},
      {"wait",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) { return from(vm.wait()); });
       }},
      {"terminate",
       [](runner& r, const json& line) {
         return with_vm(r, line,
                        [&](utility_vm& vm) { return from(vm.terminate(activity_of(line))); });
       }},
      {"shutdown",
       [](runner& r, const json& line) {
         return with_vm(r, line,
                        [&](utility_vm& vm) { return from(vm.shutdown(activity_of(line))); });
       }},
      {"close",
       [](runner& r, const json& line) {
         return with_vm(r, line, [&](utility_vm& vm) { return from(vm.close(activity_of(line))); });
       }},
      {"exit_error",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) { return from(vm.exit_error()); });
       }},
      {"id",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) -> op_result { return json(vm.id()); });
       }},
      {"os",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) -> op_result { return json(vm.os()); });
       }},
      {"is_oci",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) -> op_result { return json(vm.is_oci()); });
       }},
      {"processor_count",
       [](runner& r, const json& line) {
         return with_vm(r, line,
                        [](utility_vm& vm) -> op_result { return json(vm.processor_count()); });
       }},
      {"stats",
       [](runner& r, const json& line) {
         return with_vm(r, line, [&](utility_vm& vm) -> op_result {
           auto s = vm.stats(activity_of(line));
           if (!s) {
             return s.err();
           }
           return stats_json(*s);
         });
       }},
      {"container_counter",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) { return from(vm.container_counter()); });
       }},
      {"uvm_mount_counter",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) { return from(vm.uvm_mount_counter()); });
       }},
      {"info",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) -> op_result {
           auto i = vm.info();
           if (!i) {
             return i.err();
           }
           return info_json(*i);
         });
       }},
      {"exits",
       [](runner& r, const json&) -> op_result {
         auto ex = r.eng.exits();
         if (!ex) {
           return ex.err();
         }
         json out = json::array();
         for (const auto& e : *ex) {
           out.push_back({{"id", e.vm_id},
                          {"unexpected", e.unexpected},
                          {"exit_error", e.exit_error},
                          {"action", e.action},
                          {"restarts", e.restarts}});
         }
         return out;
       }},
      {"add_scsi", [](runner& r, const json& line) { return add_scsi_op(r, line, false); }},
      {"add_scsi_physical_disk",
       [](runner& r, const json& line) { return add_scsi_op(r, line, true); }},
      {"remove_scsi",
       [](runner& r, const json& line) {
         return with_vm(r, line, [&](utility_vm& vm) -> op_result {
           auto host_path = string_arg(line, "host_path");
           if (!host_path) {
             return host_path.err();
           }
           return from(vm.remove_scsi(*host_path, activity_of(line)));
         });
       }},
      {"get_scsi_uvm_path",
       [](runner& r, const json& line) {
         return with_vm(r, line, [&](utility_vm& vm) -> op_result {
           auto host_path = string_arg(line, "host_path");
           if (!host_path) {
             return host_path.err();
           }
           return from(vm.get_scsi_uvm_path(*host_path));
         });
       }},
      {"device_view",
       [](runner& r, const json& line) {
         return with_vm(r, line, [](utility_vm& vm) -> op_result {
           auto v = vm.device_view();
           if (!v) {
             return v.err();
           }
           return json::parse(*v);
         });
       }},
      {"guest_fail",
       [](runner& r, const json& line) {
         return with_vm(r, line, [&](utility_vm& vm) -> op_result {
           vm.guest_fail(line.value("count", 1u));
           return json(nullptr);
         });
       }},
      {"sim_fail",
       [](runner& r, const json& line) -> op_result {
         auto kind = call_of(line);
         auto target = sim_target(r, line, false);
         if (!kind) {
           return kind.err();
         }
         if (!target) {
           return target.err();
         }
         if (line.contains("probability")) {
           r.eng.sim().fail_with_probability(*kind, line.value("probability", 0.0));
         } else {
           r.eng.sim().fail_next(*kind, line.value("count", 1u), *target);
         }
         return json(nullptr);
       }},
      {"sim_crash",
       [](runner& r, const json& line) -> op_result {
         auto target = sim_target(r, line, true);
         if (!target) {
           return target.err();
         }
         if (line.contains("after_calls")) {
           r.eng.sim().crash_after_calls(*target, line.value("after_calls", 1u));
         } else if (line.contains("after_ms")) {
           r.eng.sim().crash_after(*target, ms_of(line, "after_ms", 0));
         } else {
           r.eng.sim().crash(*target);
         }
         return json(nullptr);
       }},
      {"sim_latency",
       [](runner& r, const json& line) -> op_result {
         auto kind = call_of(line);
         if (!kind) {
           return kind.err();
         }
         auto ms = line.value("ms", int64_t{0});
         auto lo = ms_of(line, "min_ms", ms);
         auto hi = ms_of(line, "max_ms", line.value("min_ms", ms));
         if (lo.count() < 0 || hi < lo) {
           return bad("sim_latency needs 0 <= min_ms <= max_ms");
         }
         r.eng.sim().set_latency(*kind, lo, hi);
         return json(nullptr);
       }},
      {"sim_oracle", [](runner& r, const json&) -> op_result { return r.eng.sim().oracle(); }},
      {"sleep",
       [](runner&, const json& line) -> op_result {
         auto ms = line.value("ms", int64_t{0});
         if (ms < 0) {
           return bad("sleep needs ms >= 0");
         }
         std::this_thread::sleep_for(std::chrono::milliseconds{ms});
         return json(nullptr);
       }},
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
nlohmann::ordered_json run_line(runner& r, const std::string& text, size_t line_no) {
  nlohmann::ordered_json out;
  out["line"] = line_no;
  auto line = json::parse(text, nullptr, false);
  if (line.is_discarded() || !line.is_object()) {
    out["op"] = nullptr;
    out["ok"] = false;
    out["error"] = "invalid scenario line: not a JSON object";
    return out;
  }
  auto op = line.value("op", std::string{});
  out["op"] = op;
  auto i = ops().find(op);
  op_result res = i == ops().end() ? op_result{bad("unknown op '" + op + "'")} : i->second(r, line);
  if (res) {
    out["ok"] = true;
    out["result"] = *res;
  } else {
    out["ok"] = false;
    out["error"] = res.err().text;
  }
  return out;
}

} // namespace

int run_scenario(engine& eng, std::istream& in, std::ostream& out, const scenario_options& opts) {
  std::ofstream hcs_log;
  std::mutex hcs_log_mutex;
  if (!opts.hcs_log_path.empty()) {
    hcs_log.open(opts.hcs_log_path, std::ios::trunc);
    if (!hcs_log) {
      out << json{{"error", "cannot open --hcs-log file " + opts.hcs_log_path}}.dump() << "\n";
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
      out << json{{"error", "cannot open --bridge-log file " + opts.bridge_log_path}}.dump()
          << "\n";
      return 2;
    }
    eng.set_bridge_log([&](const std::string& line) {
      std::lock_guard<std::mutex> lock{bridge_log_mutex};
      bridge_log << line << "\n";
      bridge_log.flush();
    });
  }
  runner r{eng, {}, {}, {}};
  std::string text;
  size_t line_no = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (text.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    out << run_line(r, text, line_no).dump() << std::endl;
  }
  // Later calls (engine teardown) must not write into a closed log.
  eng.sim().set_call_log(nullptr);
  eng.set_bridge_log(nullptr);
  return in.bad() ? 2 : 0;
}

} // namespace uvm::cli
