// The modify dispatcher of uvm-api.md §4, for one device child: the host
// part of a request goes to HCS, the guest part to the guest (over the
// bridge, or the stub); a guest step that fails after its host step added
// a resource undoes the host step, retrying the undo until HCS lets go, so
// that the engine's view and the host's agree when the caller hears of the
// failure. A removal runs guest first; when its host step fails the
// resource is still attached and the guest gets it back, retried the same
// way until the guest takes it.
//
// When HCS owns the guest connection (no external guest) or a request has
// no guest part, the request goes to HCS whole, and HCS's error is the
// answer. Every continuation runs on the owner's turn (completion_inbox).
// Pure: no actor system.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/core/completion_inbox.hpp"
#include "actors/core/guest_backend.hpp"
#include "hcs/backend.hpp"
#include "hcs/device_requests.hpp"
#include "messages/errors.hpp"

namespace uvm {

class device_steps {
public:
  struct config {
    std::string vm_id;
    // True when the engine runs the GCS bridge itself (LCOW default): guest
    // parts go to `guest`; otherwise HCS forwards them.
    bool external_guest = true;
    std::shared_ptr<hcs::backend> host;
    std::shared_ptr<guest_backend> guest;
  };

  using done_fn = std::function<void(const error&)>;
  // The guest part of the add that a removal undoes (none: nothing to give
  // back); made only when needed.
  using restore_fn = std::function<std::optional<std::string>()>;

  // A failed undo or guest restore is retried after this, doubling up to
  // the maximum.
  static constexpr std::chrono::milliseconds undo_retry_first{10};
  static constexpr std::chrono::milliseconds undo_retry_max{5000};

  device_steps(config cfg, completion_inbox& inbox) : cfg_(std::move(cfg)), inbox_(inbox) {}

  const std::string& vm_id() const { return cfg_.vm_id; }
  // A restarted VM's guest (the new system's bridge).
  void rebind_guest(std::shared_ptr<guest_backend> guest) { cfg_.guest = std::move(guest); }

  // An Add, or any request that is not a Remove.
  void add(hcs::device_request req, const std::string& activity, done_fn done);

  // A Remove. When the host step fails, what `restore` makes is sent to
  // the guest again (an empty restore_fn: the guest is left as the removal
  // left it).
  void remove(hcs::device_request req, restore_fn restore, const std::string& activity,
              done_fn done);

private:
  struct add_op;
  struct remove_op;

  void whole(hcs::device_request&& req, done_fn done);
  template <class Then>
  void host_step(std::string body, Then then);
  template <class Then>
  void guest_step(const std::string& request, const std::string& activity, Then then);
  void undo(std::string request, uint32_t attempt, std::function<void()> after);
  void give_back(std::string request, std::string activity, uint32_t attempt,
                 std::function<void()> after);
  static std::chrono::milliseconds retry_delay(uint32_t attempt);

  config cfg_;
  completion_inbox& inbox_;
};

} // namespace uvm
