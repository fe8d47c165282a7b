// Scenario ops for VPMEM, VSMB, Plan9, pipes, network, VPCI and combined
// layers. Arguments use the seed's parameter names in snake_case; HCS and
// HNS objects (VSMB options, endpoints, VPCI devices, WCOW layers) use
// their JSON field names.
#include "tools/uvmctl/scenario_ops.hpp"

#include "hcs/device_requests.hpp"

namespace uvm::cli {

namespace {

// Runs `fn` with the line's string argument `name` on its VM.
op_result with_path(runner& r, const json& line, const char* name,
                    const std::function<op_result(utility_vm&, const std::string&)>& fn) {
  return with_vm(r, line, [&](utility_vm& vm) -> op_result {
    auto value = string_arg(line, name);
    if (!value) {
      return value.err();
    }
    return fn(vm, *value);
  });
}

result<std::vector<std::string>> strings_arg(const json& line, const char* name, bool required) {
  auto i = line.find(name);
  if (i == line.end() || i->is_null()) {
    if (required) {
      return bad(std::string{"missing array argument \""} + name + "\"");
    }
    return std::vector<std::string>{};
  }
  std::vector<std::string> out;
  if (i->is_array()) {
    for (const auto& v : *i) {
      if (!v.is_string()) {
        break;
      }
      out.push_back(v.get<std::string>());
    }
    if (out.size() == i->size()) {
      return out;
    }
  }
  return bad(std::string{"\""} + name + "\" must be an array of strings");
}

// A JSON member that must be a boolean when present.
result<bool> flag(const json& obj, const char* name) {
  auto i = obj.find(name);
  if (i == obj.end() || i->is_null()) {
    return false;
  }
  if (!i->is_boolean()) {
    return bad(std::string{"\""} + name + "\" must be true or false");
  }
  return i->get<bool>();
}

result<hcs::virtual_smb_share_options> vsmb_options_of(const json& line) {
  hcs::virtual_smb_share_options o;
  auto i = line.find("options");
  if (i == line.end() || i->is_null()) {
    return o;
  }
  if (!i->is_object()) {
    return bad("\"options\" must be an object of VirtualSmbShareOptions flags");
  }
  const std::pair<const char*, bool hcs::virtual_smb_share_options::*> fields[] = {
      {"ReadOnly", &hcs::virtual_smb_share_options::read_only},
      {"ShareRead", &hcs::virtual_smb_share_options::share_read},
      {"CacheIo", &hcs::virtual_smb_share_options::cache_io},
      {"NoOplocks", &hcs::virtual_smb_share_options::no_oplocks},
      {"TakeBackupPrivilege", &hcs::virtual_smb_share_options::take_backup_privilege},
      {"UseShareRootIdentity", &hcs::virtual_smb_share_options::use_share_root_identity},
      {"NoDirectmap", &hcs::virtual_smb_share_options::no_directmap},
      {"NoLocks", &hcs::virtual_smb_share_options::no_locks},
      {"NoDirnotify", &hcs::virtual_smb_share_options::no_dirnotify},
      {"VmSharedMemory", &hcs::virtual_smb_share_options::vm_shared_memory},
      {"RestrictFileAccess", &hcs::virtual_smb_share_options::restrict_file_access},
      {"ForceLevelIIOplocks", &hcs::virtual_smb_share_options::force_level_ii_oplocks},
      {"ReparseBaseLayer", &hcs::virtual_smb_share_options::reparse_base_layer},
      {"PseudoOplocks", &hcs::virtual_smb_share_options::pseudo_oplocks},
      {"NonCacheIo", &hcs::virtual_smb_share_options::non_cache_io},
      {"PseudoDirnotify", &hcs::virtual_smb_share_options::pseudo_dirnotify},
      {"SingleFileMapping", &hcs::virtual_smb_share_options::single_file_mapping},
  };
  for (const auto& [key, value] : i->items()) {
    auto field = std::find_if(std::begin(fields), std::end(fields),
                              [&](const auto& f) { return key == f.first; });
    if (field == std::end(fields)) {
      return bad("unknown VirtualSmbShareOptions field '" + key + "'");
    }
    auto v = flag(*i, field->first);
    if (!v) {
      return v.err();
    }
    o.*(field->second) = *v;
  }
  return o;
}

// An HNS endpoint object ({"ID","MacAddress","IPAddress",...,"Namespace":
// {"ID"}}), or just its id as a string.
result<hcs::network_endpoint> endpoint_of(const json& v) {
  hcs::network_endpoint e;
  if (v.is_string()) {
    e.id = v.get<std::string>();
    return e;
  }
  if (!v.is_object() || !v.contains("ID") || !v["ID"].is_string()) {
    return bad("an endpoint must be an HNS endpoint object with a string \"ID\", or an id");
  }
  try {
    e.id = v["ID"].get<std::string>();
    e.mac_address = v.value("MacAddress", "");
    e.ip_address = v.value("IPAddress", "");
    e.prefix_length = v.value("PrefixLength", uint8_t{0});
    e.gateway_address = v.value("GatewayAddress", "");
    e.dns_suffix = v.value("DNSSuffix", "");
    e.dns_server_list = v.value("DNSServerList", "");
    e.enable_low_metric = v.value("EnableLowMetric", false);
    e.encap_overhead = v.value("EncapOverhead", uint16_t{0});
    if (auto ns = v.find("Namespace"); ns != v.end() && ns->is_object()) {
      e.namespace_id = ns->value("ID", "");
    }
  } catch (const json::exception& ex) {
    return bad(std::string{"endpoint "} + e.id + ": " + ex.what());
  }
  return e;
}

result<std::vector<hcs::network_endpoint>> endpoints_of(const json& line) {
  auto i = line.find("endpoints");
  if (i == line.end() || !i->is_array()) {
    return bad("missing array argument \"endpoints\"");
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
    return bad("missing \"device\": {\"Functions\": [{\"DeviceInstancePath\": ...}]}");
  }
  hcs::virtual_pci_device device;
  for (const auto& f : (*i)["Functions"]) {
    if (!f.is_object() || !f.contains("DeviceInstancePath") ||
        !f["DeviceInstancePath"].is_string()) {
      return bad("every VPCI function needs a string \"DeviceInstancePath\"");
    }
    hcs::virtual_pci_function fn;
    fn.device_instance_path = f["DeviceInstancePath"].get<std::string>();
    auto vf = f.value("VirtualFunction", json(0));
    if (!vf.is_number_integer() || vf.get<int64_t>() < 0 || vf.get<int64_t>() > 0xffff) {
      return bad("\"VirtualFunction\" must be an integer in 0..65535");
    }
    fn.virtual_function = vf.get<uint16_t>();
    device.functions.push_back(std::move(fn));
  }
  return device;
}

result<std::vector<hcs::layer>> wcow_layers_of(const json& line) {
  auto i = line.find("layers");
  if (i == line.end() || !i->is_array()) {
    return bad("missing array argument \"layers\"");
  }
  std::vector<hcs::layer> out;
  for (const auto& v : *i) {
    if (!v.is_object() || !v.contains("Path") || !v["Path"].is_string()) {
      return bad("every layer needs a string \"Path\" (and optional \"Id\", \"PathType\")");
    }
    hcs::layer l;
    l.id = v.value("Id", "");
    l.path = v["Path"].get<std::string>();
    l.path_type = v.value("PathType", "");
    l.cache = v.value("Cache", "");
    out.push_back(std::move(l));
  }
  return out;
}

// The share a remove_plan9 line names: "share" (the add's result, or its
// name) or "name".
result<plan9_share_handle> plan9_share_of(const json& line) {
  auto i = line.find("share");
  if (i != line.end() && i->is_object() && i->contains("Name") && (*i)["Name"].is_string()) {
    return plan9_share_handle{(*i)["Name"].get<std::string>(), i->value("HostPath", ""),
                              i->value("UVMPath", "")};
  }
  if (i != line.end() && i->is_string()) {
    return plan9_share_handle{i->get<std::string>(), "", ""};
  }
  auto name = line.find("name");
  if (name != line.end() && name->is_string()) {
    return plan9_share_handle{name->get<std::string>(), "", ""};
  }
  return bad("missing \"share\" (add_plan9's result or its \"Name\")");
}

json vsmb_json(const vsmb_share_handle& s) {
  return {{"HostPath", s.host_path}, {"Name", s.name}, {"GuestPath", s.guest_path}};
}

json plan9_json(const plan9_share_handle& s) {
  return {{"Name", s.name}, {"HostPath", s.host_path}, {"UVMPath", s.uvm_path}};
}

} // namespace

void add_device_ops(op_table& t) {
  t["add_vpmem"] = [](runner& r, const json& line) {
    return with_path(r, line, "host_path", [&](utility_vm& vm, const std::string& path) {
      return from(vm.add_vpmem(path, activity_of(line)));
    });
  };
  t["remove_vpmem"] = [](runner& r, const json& line) {
    return with_path(r, line, "host_path", [&](utility_vm& vm, const std::string& path) {
      return from(vm.remove_vpmem(path, activity_of(line)));
    });
  };
  t["add_vsmb"] = [](runner& r, const json& line) {
    return with_path(r, line, "host_path",
                     [&](utility_vm& vm, const std::string& path) -> op_result {
                       auto options = vsmb_options_of(line);
                       if (!options) {
                         return options.err();
                       }
                       auto share = vm.add_vsmb(path, *options, activity_of(line));
                       if (!share) {
                         return share.err();
                       }
                       return vsmb_json(*share);
                     });
  };
  t["remove_vsmb"] = [](runner& r, const json& line) {
    return with_path(r, line, "host_path", [&](utility_vm& vm, const std::string& path) {
      return from(vm.remove_vsmb(path, activity_of(line)));
    });
  };
  t["get_vsmb_uvm_path"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) {
      // An empty or missing path is the seed's own error.
      return from(vm.get_vsmb_uvm_path(line.value("host_path", "")));
    });
  };
  t["add_plan9"] = [](runner& r, const json& line) {
    return with_path(
        r, line, "host_path", [&](utility_vm& vm, const std::string& path) -> op_result {
          auto names = strings_arg(line, "allowed_names", false);
          auto read_only = flag(line, "read_only");
          auto restrict_access = flag(line, "restrict");
          for (const error* e : {&names.err(), &read_only.err(), &restrict_access.err()}) {
            if (*e) {
              return *e;
            }
          }
          auto share = vm.add_plan9(path, line.value("uvm_path", ""), *read_only, *restrict_access,
                                    *names, activity_of(line));
          if (!share) {
            return share.err();
          }
          return plan9_json(*share);
        });
  };
  t["remove_plan9"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) -> op_result {
      auto share = plan9_share_of(line);
      if (!share) {
        return share.err();
      }
      return from(vm.remove_plan9(*share, activity_of(line)));
    });
  };
  t["add_pipe"] = [](runner& r, const json& line) {
    return with_path(r, line, "host_path",
                     [&](utility_vm& vm, const std::string& path) -> op_result {
                       if (auto e = vm.add_pipe(path, activity_of(line))) {
                         return e;
                       }
                       return json{{"HostPath", path}};
                     });
  };
  t["remove_pipe"] = [](runner& r, const json& line) {
    return with_path(r, line, "host_path", [&](utility_vm& vm, const std::string& path) {
      return from(vm.remove_pipe(path, activity_of(line)));
    });
  };
  t["is_pipe"] = [](runner&, const json& line) -> op_result {
    auto path = string_arg(line, "host_path");
    if (!path) {
      return path.err();
    }
    return json(hcs::is_pipe(*path));
  };
  // GetContainerPipeMapping(uvm, mount): "vm" is optional (nil UVM without it).
  t["get_container_pipe_mapping"] = [](runner& r, const json& line) -> op_result {
    const json& mount = line.contains("mount") ? line["mount"] : line;
    auto source = string_arg(mount, "source");
    auto destination = string_arg(mount, "destination");
    if (!source) {
      return source.err();
    }
    if (!destination) {
      return destination.err();
    }
    bool in_uvm = line.contains("vm");
    if (in_uvm) {
      auto known = with_vm(r, line, [](utility_vm&) -> op_result { return json(nullptr); });
      if (!known) {
        return known.err();
      }
    }
    auto m = hcs::container_pipe_mapping(in_uvm, *source, *destination);
    return json{{"src", m.source}, {"dst", m.destination}};
  };
  t["add_net_ns"] = [](runner& r, const json& line) {
    return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) {
      return from(vm.add_net_ns(id, activity_of(line)));
    });
  };
  t["remove_net_ns"] = [](runner& r, const json& line) {
    return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) {
      return from(vm.remove_net_ns(id, activity_of(line)));
    });
  };
  t["add_endpoints_to_ns"] = [](runner& r, const json& line) {
    return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) -> op_result {
      auto endpoints = endpoints_of(line);
      if (!endpoints) {
        return endpoints.err();
      }
      return from(vm.add_endpoints_to_ns(id, *endpoints, activity_of(line)));
    });
  };
  t["remove_endpoints_from_ns"] = [](runner& r, const json& line) {
    return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) -> op_result {
      auto endpoints = endpoints_of(line);
      if (!endpoints) {
        return endpoints.err();
      }
      return from(vm.remove_endpoints_from_ns(id, *endpoints, activity_of(line)));
    });
  };
  t["assign_device"] = [](runner& r, const json& line) {
    return with_vm(r, line, [&](utility_vm& vm) -> op_result {
      auto device = vpci_device_of(line);
      if (!device) {
        return device.err();
      }
      auto id = vm.assign_device(*device, activity_of(line));
      if (!id) {
        return id.err();
      }
      return json{{"ID", *id}};
    });
  };
  t["remove_device"] = [](runner& r, const json& line) {
    return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) {
      return from(vm.remove_device(id, activity_of(line)));
    });
  };
  t["combine_layers_lcow"] = [](runner& r, const json& line) {
    return with_path(r, line, "rootfs_path",
                     [&](utility_vm& vm, const std::string& root) -> op_result {
                       auto layers = strings_arg(line, "layer_paths", true);
                       if (!layers) {
                         return layers.err();
                       }
                       return from(vm.combine_layers_lcow(*layers, line.value("scratch_path", ""),
                                                          root, activity_of(line)));
                     });
  };
  t["combine_layers_wcow"] = [](runner& r, const json& line) {
    return with_path(r, line, "container_root_path",
                     [&](utility_vm& vm, const std::string& root) -> op_result {
                       auto layers = wcow_layers_of(line);
                       if (!layers) {
                         return layers.err();
                       }
                       return from(vm.combine_layers_wcow(*layers, root, activity_of(line)));
                     });
  };
  t["remove_combined_layers"] = [](runner& r, const json& line) {
    return with_path(r, line, "rootfs_path", [&](utility_vm& vm, const std::string& root) {
      return from(vm.remove_combined_layers(root, activity_of(line)));
    });
  };
}

} // namespace uvm::cli
