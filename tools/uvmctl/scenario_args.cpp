#include "tools/uvmctl/scenario_args.hpp"

#include <utility>

namespace uvm::cli {

namespace {

using nlohmann::json;

error bad_arg(std::string text) {
  return error{errc::bad_request, std::move(text)};
}

// The reader's error, or `value`.
template <class T>
result<T> checked(const field_reader& r, T value) {
  if (r.err()) {
    return r.err();
  }
  return value;
}

result<hcs::network_endpoint> endpoint_of(const json& v) {
  hcs::network_endpoint e;
  if (v.is_string()) {
    e.id = v.get<std::string>();
    return e;
  }
  if (!v.is_object() || !v.contains("ID") || !v["ID"].is_string()) {
    return bad_arg("an endpoint must be an HNS endpoint object with a string \"ID\", or an id");
  }
  field_reader r{v, "endpoint field ", '\''};
  e.id = r.text("ID");
  e.mac_address = r.text("MacAddress");
  e.ip_address = r.text("IPAddress");
  e.prefix_length = r.integer("PrefixLength", e.prefix_length);
  e.gateway_address = r.text("GatewayAddress");
  e.dns_suffix = r.text("DNSSuffix");
  e.dns_server_list = r.text("DNSServerList");
  e.enable_low_metric = r.flag("EnableLowMetric");
  e.encap_overhead = r.integer("EncapOverhead", e.encap_overhead);
  if (const json* ns = r.object("Namespace")) {
    field_reader n{*ns, "endpoint field 'Namespace' member ", '\''};
    e.namespace_id = n.text("ID");
    if (n.err()) {
      return n.err();
    }
  }
  return checked(r, std::move(e));
}

} // namespace

std::chrono::milliseconds duration_ms(field_reader& r, const char* name,
                                      std::chrono::milliseconds fallback) {
  return std::chrono::milliseconds{
      r.integer_in<int64_t>(name, fallback.count(), 0, max_duration_ms, "milliseconds")};
}

result<vm_access_type> vm_access_of(const json& line) {
  auto i = line.find("vm_access");
  if (i == line.end() || i->is_null()) {
    return vm_access_type::noop;
  }
  int32_t n = 0;
  if (integer_within<int32_t>(*i, 0, 2, n)) {
    return static_cast<vm_access_type>(n);
  }
  if (i->is_string()) {
    const auto& s = i->get_ref<const std::string&>();
    const std::pair<const char*, vm_access_type> names[] = {
        {"noop", vm_access_type::noop},
        {"group", vm_access_type::group},
        {"individual", vm_access_type::individual},
    };
    for (const auto& [text, value] : names) {
      if (s == text) {
        return value;
      }
    }
  }
  return bad_arg("vm_access must be 0/1/2 or \"noop\"/\"group\"/\"individual\", got " +
                 describe_json(*i));
}

result<hcs::call_kind> call_of(const json& line) {
  field_reader r{line};
  auto name = r.text("call");
  if (r.err()) {
    return r.err();
  }
  hcs::call_kind kind{};
  if (!hcs::parse_call_kind(name, kind)) {
    return bad_arg("unknown call '" + name +
                   "' (create, start, modify, shutdown, terminate, properties)");
  }
  return kind;
}

result<sim_fail_args> sim_fail_of(const json& line) {
  auto call = call_of(line);
  if (!call) {
    return call.err();
  }
  sim_fail_args a;
  a.call = *call;
  field_reader r{line};
  a.by_probability = r.has("probability");
  a.probability = r.number("probability", 0, 0, 1);
  a.count = r.integer("count", a.count);
  return checked(r, a);
}

result<sim_crash_args> sim_crash_of(const json& line) {
  sim_crash_args a;
  field_reader r{line};
  if (r.has("after_calls")) {
    a.when = sim_crash_args::when::after_calls;
    a.calls = r.integer<uint32_t>("after_calls", 1);
  } else if (r.has("after_ms")) {
    a.when = sim_crash_args::when::after_delay;
    a.delay = duration_ms(r, "after_ms", a.delay);
  }
  return checked(r, a);
}

result<latency_args> latency_of(const json& line) {
  auto call = call_of(line);
  if (!call) {
    return call.err();
  }
  latency_args a;
  a.call = *call;
  field_reader r{line};
  auto ms = duration_ms(r, "ms", std::chrono::milliseconds{0});
  a.min = duration_ms(r, "min_ms", ms);
  a.max = duration_ms(r, "max_ms", a.min);
  if (r.err()) {
    return r.err();
  }
  if (a.max < a.min) {
    return bad_arg("sim_latency needs 0 <= min_ms <= max_ms");
  }
  return a;
}

result<hcs::virtual_smb_share_options> vsmb_options_of(const json& line) {
  hcs::virtual_smb_share_options o;
  field_reader line_reader{line};
  const json* options = line_reader.object("options");
  if (line_reader.err()) {
    return bad_arg("\"options\" must be an object of VirtualSmbShareOptions flags");
  }
  if (!options) {
    return o;
  }
  using opts = hcs::virtual_smb_share_options;
  const std::pair<const char*, bool opts::*> fields[] = {
      {"ReadOnly", &opts::read_only},
      {"ShareRead", &opts::share_read},
      {"CacheIo", &opts::cache_io},
      {"NoOplocks", &opts::no_oplocks},
      {"TakeBackupPrivilege", &opts::take_backup_privilege},
      {"UseShareRootIdentity", &opts::use_share_root_identity},
      {"NoDirectmap", &opts::no_directmap},
      {"NoLocks", &opts::no_locks},
      {"NoDirnotify", &opts::no_dirnotify},
      {"VmSharedMemory", &opts::vm_shared_memory},
      {"RestrictFileAccess", &opts::restrict_file_access},
      {"ForceLevelIIOplocks", &opts::force_level_ii_oplocks},
      {"ReparseBaseLayer", &opts::reparse_base_layer},
      {"PseudoOplocks", &opts::pseudo_oplocks},
      {"NonCacheIo", &opts::non_cache_io},
      {"PseudoDirnotify", &opts::pseudo_dirnotify},
      {"SingleFileMapping", &opts::single_file_mapping},
  };
  field_reader r{*options, "VirtualSmbShareOptions field ", '\''};
  for (const auto& [key, member] : fields) {
    o.*member = r.flag(key);
  }
  r.reject_unknown();
  return checked(r, o);
}

result<std::vector<hcs::network_endpoint>> endpoints_of(const json& line) {
  auto i = line.find("endpoints");
  if (i == line.end() || !i->is_array()) {
    return bad_arg("missing array argument \"endpoints\"");
  }
  std::vector<hcs::network_endpoint> out;
  for (const auto& v : *i) {
    auto e = endpoint_of(v);
    if (!e) {
      return e.err();
    }
    out.push_back(std::move(*e));
  }
  return out;
}

result<hcs::virtual_pci_device> vpci_device_of(const json& line) {
  auto i = line.find("device");
  if (i == line.end() || !i->is_object() || !i->contains("Functions") ||
      !(*i)["Functions"].is_array()) {
    return bad_arg("missing \"device\": {\"Functions\": [{\"DeviceInstancePath\": ...}]}");
  }
  hcs::virtual_pci_device device;
  for (const auto& f : (*i)["Functions"]) {
    if (!f.is_object() || !f.contains("DeviceInstancePath") ||
        !f["DeviceInstancePath"].is_string()) {
      return bad_arg("every VPCI function needs a string \"DeviceInstancePath\"");
    }
    field_reader r{f, "VPCI function field ", '\''};
    hcs::virtual_pci_function fn;
    fn.device_instance_path = r.text("DeviceInstancePath");
    fn.virtual_function = r.integer("VirtualFunction", fn.virtual_function);
    if (r.err()) {
      return r.err();
    }
    device.functions.push_back(std::move(fn));
  }
  return device;
}

result<std::vector<hcs::layer>> wcow_layers_of(const json& line) {
  auto i = line.find("layers");
  if (i == line.end() || !i->is_array()) {
    return bad_arg("missing array argument \"layers\"");
  }
  std::vector<hcs::layer> out;
  for (const auto& v : *i) {
    if (!v.is_object() || !v.contains("Path") || !v["Path"].is_string()) {
      return bad_arg("every layer needs a string \"Path\" (and optional \"Id\", \"PathType\")");
    }
    field_reader r{v, "layer field ", '\''};
    hcs::layer l;
    l.id = r.text("Id");
    l.path = r.text("Path");
    l.path_type = r.text("PathType");
    l.cache = r.text("Cache");
    if (r.err()) {
      return r.err();
    }
    out.push_back(std::move(l));
  }
  return out;
}

result<plan9_share_handle> plan9_share_of(const json& line) {
  auto i = line.find("share");
  if (i != line.end() && i->is_object() && i->contains("Name") && (*i)["Name"].is_string()) {
    field_reader r{*i, "share field ", '\''};
    plan9_share_handle share{r.text("Name"), r.text("HostPath"), r.text("UVMPath")};
    return checked(r, std::move(share));
  }
  if (i != line.end() && i->is_string()) {
    return plan9_share_handle{i->get<std::string>(), "", ""};
  }
  auto name = line.find("name");
  if (name != line.end() && name->is_string()) {
    return plan9_share_handle{name->get<std::string>(), "", ""};
  }
  return bad_arg("missing \"share\" (add_plan9's result or its \"Name\")");
}

result<pipe_mount> pipe_mount_of(const json& line) {
  field_reader r{line};
  const json* mount = r.object("mount");
  if (r.err()) {
    return r.err();
  }
  const json& from = mount ? *mount : line;
  for (const char* name : {"source", "destination"}) {
    auto i = from.find(name);
    if (i == from.end() || !i->is_string()) {
      return bad_arg(std::string{"missing string argument \""} + name + "\"");
    }
  }
  return pipe_mount{from["source"].get<std::string>(), from["destination"].get<std::string>()};
}

result<std::string> container_settings(const json& line) {
  field_reader r{line};
  if (r.has("settings")) {
    const json& settings = line["settings"];
    if (settings.is_string()) {
      return settings.get<std::string>();
    }
    if (settings.is_object()) {
      return settings.dump();
    }
    return bad_arg("\"settings\" must be an object or its JSON text, got " +
                   describe_json(settings));
  }
  auto args = r.texts("args");
  auto env = r.texts("env");
  auto cwd = r.text("cwd", "/");
  if (r.err()) {
    return r.err();
  }
  if (args.empty()) {
    return bad_arg("create_container needs \"settings\" or \"args\"");
  }
  json process = {{"args", args}, {"cwd", cwd}};
  process["env"] =
      env.empty() ? std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} : env;
  json doc = {{"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
              {"OciSpecification", {{"process", process}}}};
  return doc.dump();
}

result<process_args> process_args_of(const json& line) {
  process_args a;
  process_parameters& p = a.params;
  field_reader r{line};
  p.command_args = r.texts("args");
  p.command_line = r.text("command_line");
  p.working_directory = r.text("working_directory");
  if (const json* env = r.object("environment")) {
    for (auto it = env->begin(); it != env->end(); ++it) {
      if (!it.value().is_string()) {
        return bad_arg("\"environment\" member '" + it.key() + "' must be a string, got " +
                       describe_json(it.value()));
      }
      p.environment[it.key()] = it.value().get<std::string>();
    }
  }
  a.container_id = r.text("container_id");
  bool in_container = r.has("container_id");
  bool init = r.flag("init");
  a.has_stdin = r.has("stdin");
  a.stdin_text = r.text("stdin");
  a.detach = r.flag("detach");
  a.name = r.text("name");
  if (r.err()) {
    return r.err();
  }
  if (!in_container && p.command_args.empty() && p.command_line.empty()) {
    return bad_arg("create_process needs \"args\" or \"command_line\"");
  }
  if (in_container && !init) {
    // An exec in an LCOW container carries its OCI process spec.
    if (p.command_args.empty()) {
      return bad_arg("a process in a container needs \"args\" (or \"init\": true)");
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
  // A detached process's output is not collected: no pipes.
  p.create_stdin = !a.detach && a.has_stdin;
  p.create_stdout = p.create_stderr = !a.detach;
  return a;
}

result<std::string> process_name_of(const json& line) {
  auto i = line.find("process");
  uint32_t pid = 0;
  if (i != line.end() && i->is_string()) {
    return i->get<std::string>();
  }
  if (i != line.end() && integer_within<uint32_t>(*i, 0, UINT32_MAX, pid)) {
    return std::to_string(pid);
  }
  return bad_arg("missing \"process\" (the name or pid of a detached create_process)" +
                 (i == line.end() ? std::string{} : ", got " + describe_json(*i)));
}

result<uint64_t> memory_bytes_of(const json& line) {
  field_reader r{line};
  if (r.has("memory_mb") == r.has("bytes")) {
    return bad_arg("update_memory needs one of \"memory_mb\" or \"bytes\"");
  }
  if (r.has("bytes")) {
    return checked(r, r.integer<uint64_t>("bytes", 0));
  }
  constexpr uint64_t mib = 1024 * 1024;
  return checked(r, r.integer_in<uint64_t>("memory_mb", 0, 0, UINT64_MAX / mib) * mib);
}

result<cpu_limits> cpu_limits_of(const json& line) {
  field_reader r{line};
  cpu_limits c;
  c.count = r.integer<uint32_t>("count", 0);
  c.limit = r.integer<uint64_t>("limit", 0);
  c.weight = r.integer<uint64_t>("weight", 0);
  c.reservation = r.integer<uint64_t>("reservation", 0);
  c.maximum_frequency_mhz = r.integer<uint32_t>("maximum_frequency_mhz", 0);
  return checked(r, c);
}

} // namespace uvm::cli
