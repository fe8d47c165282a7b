// The "stub" guest of a utility VM (engine_config::guest = "stub"): the
// guest's mount table (bridge/mount_table) answered in this process,
// without the bridge protocol, inside the caller's call. Deterministic tests
// and the hotplug bench use it. With the frame log on, each exchange is
// recorded as the bridge would send and receive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/core/guest_backend.hpp"
#include "bridge/frame_log.hpp"
#include "bridge/mount_table.hpp"

namespace uvm {

class stub_guest : public guest_backend {
public:
  stub_guest(std::string vm_id, std::shared_ptr<bridge::frame_log> log)
      : vm_id_(std::move(vm_id)), log_(std::move(log)) {}

  // Answers inside the call.
  void modify(const std::string& request, const std::string& activity, completion done) override {
    done(modify_settings(request, activity));
  }

  // One ModifySettings request (its guest part).
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
