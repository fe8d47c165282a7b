#include "actors/event_bus.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include <caf/abstract_group.hpp>
#include <caf/group_manager.hpp>
#include <caf/sec.hpp>

namespace uvm {

namespace {

class event_bus final : public caf::abstract_group {
public:
  event_bus(caf::group_module& mod, std::string name, caf::node_id origin)
      : caf::abstract_group(mod, std::move(name), std::move(origin)) {}

  void enqueue(caf::strong_actor_ptr sender, caf::message_id mid, caf::message content,
               caf::execution_unit* host) override {
    // Delivered outside the lock: a member's mailbox may run arbitrary code.
    std::vector<caf::strong_actor_ptr> members;
    {
      std::lock_guard<std::mutex> lock{mtx_};
      members = members_;
    }
    for (auto& m : members) {
      m->enqueue(sender, mid, content, host);
    }
  }

  bool subscribe(caf::strong_actor_ptr who) override {
    std::lock_guard<std::mutex> lock{mtx_};
    if (std::find(members_.begin(), members_.end(), who) != members_.end()) {
      return false;
    }
    members_.push_back(std::move(who));
    count_.store(members_.size(), std::memory_order_release);
    return true;
  }

  void unsubscribe(const caf::actor_control_block* who) override {
    std::lock_guard<std::mutex> lock{mtx_};
    members_.erase(std::remove_if(members_.begin(), members_.end(),
                                  [who](const caf::strong_actor_ptr& m) { return m.get() == who; }),
                   members_.end());
    count_.store(members_.size(), std::memory_order_release);
  }

  void stop() override {
    std::vector<caf::strong_actor_ptr> members;
    {
      std::lock_guard<std::mutex> lock{mtx_};
      members.swap(members_);
      count_.store(0, std::memory_order_release);
    }
  }

  // The bus lives in one engine; remote nodes get events through an actor
  // of their own that joins it.
  caf::error save(caf::serializer&) const override {
    return caf::make_error(caf::sec::state_not_serializable);
  }

  bool listened() const { return count_.load(std::memory_order_acquire) > 0; }

private:
  std::mutex mtx_;
  std::vector<caf::strong_actor_ptr> members_;
  std::atomic<size_t> count_{0};
};

} // namespace

caf::group make_event_bus(caf::actor_system& sys, std::string name) {
  auto mod = sys.groups().get_module("local");
  return caf::group{caf::make_counted<event_bus>(*mod, std::move(name), sys.node())};
}

bool has_listeners(const caf::group& bus) {
  if (!bus) {
    return false;
  }
  auto* ours = dynamic_cast<const event_bus*>(bus.get());
  return ours == nullptr || ours->listened();
}

void stop_event_bus(const caf::group& bus) {
  if (bus) {
    bus.get()->stop();
  }
}

} // namespace uvm
