// The guest's mount table: what a ModifySettings request to the null
// container (gcs-bridge.md §7.10) asks of the guest, kept as a table. Our
// guest agent (guest/service) keeps its mounts here, and the engine's
// "stub" guest (actors/core/stub_guest) answers from one directly, without
// the bridge protocol. It validates requests the way the Linux GCS does
// (unknown resource or request types, mounting twice at one path, removing
// what is not there) and can be told to fail. A guest that mounts for real
// passes its own step, which runs once the table accepted a request and
// before the table changes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "messages/hcs_types.hpp"

namespace uvm::bridge {

class mount_table {
public:
  // The guest's own step for an accepted request ("Add" or "Remove"); a
  // failure is the request's result and leaves the table as it was.
  using guest_step = std::function<hcs::call_result(const std::string& resource_type,
                                                    const std::string& request_type,
                                                    const nlohmann::json& settings)>;

  // One guest request ({"RequestType","ResourceType","Settings"}); the
  // result carries an HRESULT and the guest's error message. Requests are
  // applied one at a time, steps included.
  hcs::call_result modify_settings(const std::string& guest_request, const guest_step& step = {});

  // The next `count` requests fail with E_FAIL "injected guest fault".
  void fail_next(uint32_t count) {
    std::lock_guard<std::mutex> lock{mutex_};
    fail_next_ = count;
  }

  // What the guest has mounted where: mount path -> the request's settings.
  nlohmann::json mounts() const;

private:
  // The agent's handlers and a host's view may use one table at once.
  mutable std::mutex mutex_;
  uint32_t fail_next_ = 0;
  // Keyed by "<ResourceType> <mount path or id>".
  std::map<std::string, nlohmann::json> mounts_;
};

} // namespace uvm::bridge
