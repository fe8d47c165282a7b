// Scenario ops for VPMEM, VSMB, Plan9, pipes, network, VPCI, combined
// layers and live resizing. Arguments use the seed's parameter names in snake_case; HCS and
// HNS objects (VSMB options, endpoints, VPCI devices, WCOW layers) use
// their JSON field names.
#include "tools/uvmctl/scenario_ops.hpp"

#include "hcs/device_requests.hpp"
#include "tools/uvmctl/scenario_args.hpp"

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

json vsmb_json(const vsmb_share_handle& s) {
  return {{"HostPath", s.host_path}, {"Name", s.name}, {"GuestPath", s.guest_path}};
}

json plan9_json(const plan9_share_handle& s) {
  return {{"Name", s.name}, {"HostPath", s.host_path}, {"UVMPath", s.uvm_path}};
}

} // namespace

void add_device_ops(op_table& t) {
  t["update_memory"] = {"vm (memory_mb | bytes)", [](runner& r, const json& line) {
                          return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                            auto bytes = memory_bytes_of(line);
                            if (!bytes) {
                              return bytes.err();
                            }
                            return from(vm.update_memory(*bytes, activity_of(line)));
                          });
                        }};
  t["update_cpu_limits"] = {"vm [count] [limit] [weight] [reservation] [maximum_frequency_mhz]",
                            [](runner& r, const json& line) {
                              return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                                auto limits = cpu_limits_of(line);
                                if (!limits) {
                                  return limits.err();
                                }
                                return from(vm.update_cpu_limits(*limits, activity_of(line)));
                              });
                            }};
  t["add_vpmem"] = {"vm host_path", [](runner& r, const json& line) {
                      return with_path(r, line, "host_path",
                                       [&](utility_vm& vm, const std::string& path) {
                                         return from(vm.add_vpmem(path, activity_of(line)));
                                       });
                    }};
  t["remove_vpmem"] = {"vm host_path", [](runner& r, const json& line) {
                         return with_path(r, line, "host_path",
                                          [&](utility_vm& vm, const std::string& path) {
                                            return from(vm.remove_vpmem(path, activity_of(line)));
                                          });
                       }};
  t["add_vsmb"] = {"vm host_path [options]", [](runner& r, const json& line) {
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
                   }};
  t["remove_vsmb"] = {"vm host_path", [](runner& r, const json& line) {
                        return with_path(r, line, "host_path",
                                         [&](utility_vm& vm, const std::string& path) {
                                           return from(vm.remove_vsmb(path, activity_of(line)));
                                         });
                      }};
  t["get_vsmb_uvm_path"] = {"vm host_path", [](runner& r, const json& line) {
                              return with_vm(r, line, [&](utility_vm& vm) {
                                // An empty or missing path is the seed's own error.
                                field_reader args{line};
                                auto host_path = args.text("host_path");
                                if (args.err()) {
                                  return op_result{args.err()};
                                }
                                return from(vm.get_vsmb_uvm_path(host_path));
                              });
                            }};
  t["add_plan9"] = {"vm host_path [uvm_path] [read_only] [restrict] [allowed_names]",
                    [](runner& r, const json& line) {
                      return with_path(r, line, "host_path",
                                       [&](utility_vm& vm, const std::string& path) -> op_result {
                                         field_reader args{line};
                                         auto names = args.texts("allowed_names");
                                         auto read_only = args.flag("read_only");
                                         auto restrict_access = args.flag("restrict");
                                         auto uvm_path = args.text("uvm_path");
                                         if (args.err()) {
                                           return args.err();
                                         }
                                         auto share = vm.add_plan9(path, uvm_path, read_only,
                                                                   restrict_access, names,
                                                                   activity_of(line));
                                         if (!share) {
                                           return share.err();
                                         }
                                         return plan9_json(*share);
                                       });
                    }};
  t["remove_plan9"] = {"vm (share | name)", [](runner& r, const json& line) {
                         return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                           auto share = plan9_share_of(line);
                           if (!share) {
                             return share.err();
                           }
                           return from(vm.remove_plan9(*share, activity_of(line)));
                         });
                       }};
  t["add_pipe"] = {"vm host_path", [](runner& r, const json& line) {
                     return with_path(r, line, "host_path",
                                      [&](utility_vm& vm, const std::string& path) -> op_result {
                                        auto pipe = vm.add_pipe(path, activity_of(line));
                                        if (!pipe) {
                                          return pipe.err();
                                        }
                                        return json{{"HostPath", pipe->host_path}};
                                      });
                   }};
  t["remove_pipe"] = {"vm host_path", [](runner& r, const json& line) {
                        return with_path(r, line, "host_path",
                                         [&](utility_vm& vm, const std::string& path) {
                                           return from(vm.remove_pipe(path, activity_of(line)));
                                         });
                      }};
  t["is_pipe"] = {"host_path", [](runner&, const json& line) -> op_result {
                    auto path = string_arg(line, "host_path");
                    if (!path) {
                      return path.err();
                    }
                    return json(hcs::is_pipe(*path));
                  }};
  // GetContainerPipeMapping(uvm, mount): "vm" is optional (nil UVM without it).
  t["get_container_pipe_mapping"] = {
      "[vm] (mount | source destination)", [](runner& r, const json& line) -> op_result {
        auto mount = pipe_mount_of(line);
        if (!mount) {
          return mount.err();
        }
        bool in_uvm = line.contains("vm");
        if (in_uvm) {
          auto known = with_vm(r, line, [](utility_vm&) -> op_result { return json(nullptr); });
          if (!known) {
            return known.err();
          }
        }
        auto m = hcs::container_pipe_mapping(in_uvm, mount->source, mount->destination);
        return json{{"src", m.source}, {"dst", m.destination}};
      }};
  t["add_net_ns"] = {"vm id", [](runner& r, const json& line) {
                       return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) {
                         return from(vm.add_net_ns(id, activity_of(line)));
                       });
                     }};
  t["remove_net_ns"] = {"vm id", [](runner& r, const json& line) {
                          return with_path(r, line, "id",
                                           [&](utility_vm& vm, const std::string& id) {
                                             return from(vm.remove_net_ns(id, activity_of(line)));
                                           });
                        }};
  t["add_endpoints_to_ns"] = {
      "vm id endpoints", [](runner& r, const json& line) {
        return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) -> op_result {
          auto endpoints = endpoints_of(line);
          if (!endpoints) {
            return endpoints.err();
          }
          return from(vm.add_endpoints_to_ns(id, *endpoints, activity_of(line)));
        });
      }};
  t["remove_endpoints_from_ns"] = {
      "vm id endpoints", [](runner& r, const json& line) {
        return with_path(r, line, "id", [&](utility_vm& vm, const std::string& id) -> op_result {
          auto endpoints = endpoints_of(line);
          if (!endpoints) {
            return endpoints.err();
          }
          return from(vm.remove_endpoints_from_ns(id, *endpoints, activity_of(line)));
        });
      }};
  t["assign_device"] = {"vm device", [](runner& r, const json& line) {
                          return with_vm(r, line, [&](utility_vm& vm) -> op_result {
                            auto device = vpci_device_of(line);
                            if (!device) {
                              return device.err();
                            }
                            auto assigned = vm.assign_device(*device, activity_of(line));
                            if (!assigned) {
                              return assigned.err();
                            }
                            return json{{"ID", assigned->id}};
                          });
                        }};
  t["remove_device"] = {"vm id", [](runner& r, const json& line) {
                          return with_path(r, line, "id",
                                           [&](utility_vm& vm, const std::string& id) {
                                             return from(vm.remove_device(id, activity_of(line)));
                                           });
                        }};
  t["combine_layers_lcow"] = {
      "vm layer_paths rootfs_path [scratch_path]", [](runner& r, const json& line) {
        return with_path(
            r, line, "rootfs_path", [&](utility_vm& vm, const std::string& root) -> op_result {
              field_reader args{line};
              if (!args.has("layer_paths")) {
                return bad("missing array argument \"layer_paths\"");
              }
              auto layers = args.texts("layer_paths");
              auto scratch = args.text("scratch_path");
              if (args.err()) {
                return args.err();
              }
              return from(vm.combine_layers_lcow(layers, scratch, root, activity_of(line)));
            });
      }};
  t["combine_layers_wcow"] = {
      "vm layers container_root_path", [](runner& r, const json& line) {
        return with_path(r, line, "container_root_path",
                         [&](utility_vm& vm, const std::string& root) -> op_result {
                           auto layers = wcow_layers_of(line);
                           if (!layers) {
                             return layers.err();
                           }
                           return from(vm.combine_layers_wcow(*layers, root, activity_of(line)));
                         });
      }};
  t["remove_combined_layers"] = {
      "vm rootfs_path", [](runner& r, const json& line) {
        return with_path(r, line, "rootfs_path", [&](utility_vm& vm, const std::string& root) {
          return from(vm.remove_combined_layers(root, activity_of(line)));
        });
      }};
}

} // namespace uvm::cli
