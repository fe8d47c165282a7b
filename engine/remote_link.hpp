// A client's connection to one node (uvmd): connects over CAF's middleman
// (mutual TLS, or plaintext to a loopback node), says hello, subscribes to
// the node's event bus and hands out the stand-in of the node
// (engine/remote_ref.hpp). After a loss, the next call connects again.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <caf/all.hpp>

#include "engine/remote_ref.hpp"
#include "messages/caf/remote_calls.hpp"

namespace uvm {

class remote_link {
public:
  // Events of the node are published on `bus`.
  static result<std::unique_ptr<remote_link>> open(caf::actor_system& sys, const std::string& host,
                                                   uint16_t port, bool tls, caf::group bus,
                                                   std::chrono::milliseconds timeout);
  ~remote_link();
  remote_link(const remote_link&) = delete;
  remote_link& operator=(const remote_link&) = delete;

  // The node's stand-in: registry, supervisor and node calls.
  const caf::actor& root() const { return root_; }
  const node_info& info() const { return info_; }
  const std::string& name() const { return ctx_->name; }
  // Connects again if the node was lost; a failure leaves it lost (calls
  // then fail with "node HOST:PORT lost: ...").
  void reconnect_if_lost();

private:
  remote_link(caf::actor_system& sys, std::string host, uint16_t port, bool tls, caf::group bus);
  result<node_actor> dial();
  error introduce(const node_actor& node);

  caf::actor_system& sys_;
  std::string host_;
  uint16_t port_ = 0;
  bool tls_ = false;
  caf::group bus_;
  std::shared_ptr<remote_context> ctx_ = std::make_shared<remote_context>();
  node_info info_;
  caf::actor watch_; // node_stopping notices, the node's end, its events
  caf::actor root_;
  std::mutex reconnect_mutex_;
};

} // namespace uvm
