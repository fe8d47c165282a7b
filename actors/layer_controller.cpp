#include "actors/layer_controller.hpp"

#include <map>

namespace uvm {

namespace {

struct layer_state {
  device_dispatch dispatch{device_env{}};
  std::map<std::string, nlohmann::json> roots; // root path -> what it combines
  static inline const char* name = "uvm_layers";
};

using layer_pointer = layer_actor::stateful_pointer<layer_state>;

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

layer_actor::behavior_type layer_controller(layer_pointer self, device_env env) {
  self->state.dispatch = device_dispatch{std::move(env)};
  return device_behavior<layer_actor::behavior_type>(
      self, [=] { return nlohmann::json(self->state.roots).dump(); }, [] {},
      [=](combine_layers_atom, const combine_layers_request& req) -> caf::result<caf::ok_atom> {
        if (req.lcow != self->state.dispatch.env().lcow) {
          return to_caf_error(errc::not_supported);
        }
        auto rp = self->make_response_promise<caf::ok_atom>();
        auto reply = reply_ok(self, rp);
        auto request =
            req.lcow ? hcs::combine_layers_lcow(req.layer_paths, req.scratch_path, req.root_path)
                     : hcs::combine_layers_wcow(req.layers, req.root_path);
        modify_add(self, request, req.activity_id, [self, req, reply](const error& e) {
          if (!e) {
            self->state.roots[req.root_path] = describe(req);
            publish_device(self, req.activity_id, "combined_layers", "added", req.root_path,
                           req.root_path);
          }
          reply(e);
        });
        return rp;
      },
      [=](remove_layers_atom, const std::string& root_path,
          const std::string& activity) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        auto reply = reply_ok(self, rp);
        modify_remove(self, hcs::remove_combined_layers(root_path), std::nullopt, activity,
                      [self, root_path, activity, reply](const error& e) {
                        if (!e && self->state.roots.erase(root_path) > 0) {
                          publish_device(self, activity, "combined_layers", "removed", root_path,
                                         root_path);
                        }
                        reply(e);
                      });
        return rp;
      });
}

} // namespace

layer_actor spawn_layer_controller(caf::local_actor* parent, device_env env) {
  return parent->spawn<caf::linked>(layer_controller, std::move(env));
}

} // namespace uvm
