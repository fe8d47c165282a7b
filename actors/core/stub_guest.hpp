// The guest "stub" of a utility VM (bridge/mount_table: the mount table, no
// protocol) as the bridge child and the device children share it. The table
// is behind a mutex and answers inside the caller's call, so a device child
// asks it directly rather than through the bridge child: two messages fewer
// per guest request. With the frame log on, each exchange is recorded as the
// bridge would send and receive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "bridge/frame_log.hpp"
#include "bridge/mount_table.hpp"
#include "messages/errors.hpp"

namespace uvm {

class stub_guest {
public:
  stub_guest(std::string vm_id, std::shared_ptr<bridge::frame_log> log)
      : vm_id_(std::move(vm_id)), log_(std::move(log)) {}

  // One ModifySettings request (its guest part); a failure carries the host
  // bridge's wording, "guest RPC failure: <the guest's message>" (§6.2).
  error modify_settings(const std::string& request, const std::string& activity);

  // The next `count` requests fail with "injected guest fault".
  void fail_next(uint32_t count) { table_.fail_next(count); }

  nlohmann::json mounts() const { return table_.mounts(); }

private:
  std::string vm_id_;
  std::shared_ptr<bridge::frame_log> log_; // may be null
  bridge::mount_table table_;
  std::atomic<uint64_t> next_id_{0};
};

} // namespace uvm
