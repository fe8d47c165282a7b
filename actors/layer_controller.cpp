#include "actors/layer_controller.hpp"

#include <map>

namespace uvm {

namespace {

struct layer_state {
  std::optional<device_child> child;
  std::map<std::string, combine_layers_request> roots; // by root path
  static inline const char* name = "uvm_layers";
};

using layer_pointer = layer_child::stateful_pointer<layer_state>;

hcs::device_request request_of(const combine_layers_request& req) {
  return req.lcow ? hcs::combine_layers_lcow(req.layer_paths, req.scratch_path, req.root_path)
                  : hcs::combine_layers_wcow(req.layers, req.root_path);
}

nlohmann::json describe(const combine_layers_request& req) {
  if (req.lcow) {
    return {{"layers", req.layer_paths}, {"scratch", req.scratch_path}};
  }
  auto layers = nlohmann::json::array();
  for (const auto& l : req.layers) {
    layers.push_back(l.path);
  }
  return {{"layers", layers}};
}

layer_child::behavior_type layer_controller(layer_pointer self, device_env env) {
  self->state.child.emplace(self, std::move(env));
  return device_behavior<layer_child::behavior_type>(
      self,
      [=] {
        auto view = nlohmann::json::object();
        for (const auto& [root, req] : self->state.roots) {
          view[root] = describe(req);
        }
        return view.dump();
      },
      [] {}, settle_nothing,
      [=] {
        // Every combined root, after the devices its layers are on.
        std::vector<restore_step> out;
        for (const auto& [root, req] : self->state.roots) {
          out.push_back(restore_add(self, "combined layers at " + root, request_of(req)));
        }
        return out;
      },
      [=](combine_layers_atom, const combine_layers_request& req) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, combine_layers_atom>(self, [&](auto reply) {
          if (req.lcow != self->state.child->env().lcow) {
            reply(error{errc::not_supported});
            return;
          }
          self->state.child->steps().add(
              request_of(req), req.activity_id, [self, req, reply](const error& e) {
                if (!e) {
                  self->state.roots[req.root_path] = req;
                  publish_device(self, req.activity_id, "combined_layers", "added", req.root_path,
                                 req.root_path);
                }
                reply(e);
              });
        });
      },
      [=](remove_layers_atom, const std::string& root_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        return serve<caf::ok_atom, remove_layers_atom>(self, [&](auto reply) {
          self->state.child->steps().remove(hcs::remove_combined_layers(root_path), {}, activity,
                                            [self, root_path, activity, reply](const error& e) {
                                              if (!e && self->state.roots.erase(root_path) > 0) {
                                                publish_device(self, activity, "combined_layers",
                                                               "removed", root_path, root_path);
                                              }
                                              reply(e);
                                            });
        });
      });
}

} // namespace

layer_child spawn_layer_controller(caf::local_actor* parent, device_env env) {
  return parent->spawn<caf::linked>(layer_controller, std::move(env));
}

} // namespace uvm
