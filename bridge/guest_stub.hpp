// The in-process stand-in for the guest's half of a modify: what our guest
// agent will do with a ModifySettings request to the null container
// (gcs-bridge.md §7.10), kept as a mount table. It validates requests the
// way the Linux GCS does (unknown resource or request types, mounting twice
// at one path, removing what is not there) and can be told to fail. The GCS
// bridge replaces it; the seam is the same request JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "hcs/backend.hpp"

namespace uvm::bridge {

class guest_stub {
public:
  // One guest request ({"RequestType","ResourceType","Settings"}); the
  // result carries an HRESULT and the guest's error message.
  hcs::call_result modify_settings(const std::string& guest_request);

  // The next `count` requests fail with E_FAIL "injected guest fault".
  void fail_next(uint32_t count) { fail_next_ = count; }

  // What the guest has mounted where: mount path -> the request's settings.
  nlohmann::json mounts() const;

private:
  uint32_t fail_next_ = 0;
  // Keyed by "<ResourceType> <mount path or id>".
  std::map<std::string, nlohmann::json> mounts_;
};

} // namespace uvm::bridge
