#include "bridge/frame_log.hpp"

#include <nlohmann/json.hpp>

namespace uvm::bridge {

void frame_log::write(const std::string& vm_id, const char* direction, const char* type,
                      uint64_t id, const std::string& body) {
  nlohmann::ordered_json line;
  line["vm"] = vm_id;
  line["direction"] = direction;
  line["type"] = type;
  line["id"] = id;
  line["body"] = body;
  std::lock_guard<std::mutex> lock{mutex_};
  if (sink_) {
    sink_(line.dump());
  }
}

} // namespace uvm::bridge
