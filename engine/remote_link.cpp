#include "engine/remote_link.hpp"

#include <cstdlib>
#include <filesystem>

#include <caf/io/middleman.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "engine/blocking_call.hpp"

namespace uvm {

namespace {

struct watch_state {
  std::shared_ptr<remote_context> ctx;
  caf::group bus;
  static inline const char* name = "node_watch";
};

// Hears the node's stopping notice and its end, and publishes its events
// on the client's bus.
caf::behavior node_watch(caf::stateful_actor<watch_state>* self,
                         std::shared_ptr<remote_context> ctx, caf::group bus) {
  self->state.ctx = std::move(ctx);
  self->state.bus = std::move(bus);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.ctx->node().address()) {
      self->state.ctx->lost = true;
    }
  });
  self->set_default_handler(caf::drop);
  return {
      [self](event_batch& b) {
        for (auto& e : b.events) {
          caf::anon_send(self->state.bus, std::move(e));
        }
      },
      [self](node_stopping_atom) { self->state.ctx->set_stopping(); },
      [self](const node_actor& node) { self->monitor(node); },
  };
}

std::string describe_connect_error(caf::actor_system& sys, const std::string& name,
                                   const caf::error& e) {
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
    case caf::sec::cannot_connect_to_node:
      return "cannot connect to node " + name + ": " + sys.render(e);
    case caf::sec::disconnect_during_handshake:
      return "node " + name +
             " refused the connection during the handshake (TLS against a plaintext node, "
             "plaintext against a TLS node, or a certificate one side does not trust)";
    case caf::sec::unexpected_actor_messaging_interface:
      return "node " + name + " does not serve this engine's interface";
    default:
      break;
    }
  }
  return "node " + name + ": " + sys.render(e);
}

} // namespace

remote_link::remote_link(caf::actor_system& sys, std::string host, uint16_t port, bool tls,
                         caf::group bus)
    : sys_(sys), host_(std::move(host)), port_(port), tls_(tls), bus_(std::move(bus)) {
  ctx_->name = host_ + ":" + std::to_string(port_);
}

result<std::unique_ptr<remote_link>> remote_link::open(caf::actor_system& sys,
                                                       const std::string& host, uint16_t port,
                                                       bool tls, caf::group bus,
                                                       std::chrono::milliseconds timeout) {
  std::unique_ptr<remote_link> link{new remote_link{sys, host, port, tls, std::move(bus)}};
  link->ctx_->timeout = timeout;
  auto tmp = std::filesystem::temp_directory_path() / "uvm-remote-stdio-XXXXXX";
  auto pattern = tmp.string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return error{errc::io_failure,
                 "cannot make a folder for remote stdio in " + tmp.parent_path().string()};
  }
  link->ctx_->stdio_dir = pattern;
  link->watch_ = sys.spawn(node_watch, link->ctx_, link->bus_);
  auto node = link->dial();
  if (!node) {
    return node.err();
  }
  link->root_ = spawn_remote_ref(sys, link->ctx_, caf::actor_cast<caf::actor>(*node));
  if (auto e = link->introduce(*node)) {
    return e;
  }
  return link;
}

remote_link::~remote_link() {
  caf::anon_send_exit(watch_, caf::exit_reason::user_shutdown);
  ctx_->end_all();
  std::error_code ec;
  if (!ctx_->stdio_dir.empty()) {
    std::filesystem::remove_all(ctx_->stdio_dir, ec);
  }
}

result<node_actor> remote_link::dial() {
  auto connect = [this] {
    return tls_ ? caf::openssl::remote_actor<node_actor>(sys_, host_, port_)
                : sys_.middleman().remote_actor<node_actor>(host_, port_);
  };
  auto h = connect();
  // The peer timeout also bounds the handshake: on a loaded host a TLS
  // handshake can outlast it. Only that is tried again; a refusal is final.
  for (int retry = 0; retry < 2 && !h && h.error() == caf::sec::connection_timeout; ++retry) {
    h = connect();
  }
  if (!h) {
    return error{errc::io_failure, describe_connect_error(sys_, ctx_->name, h.error())};
  }
  return *h;
}

error remote_link::introduce(const node_actor& node) {
  ctx_->set_node(node);
  ctx_->lost = false;
  caf::anon_send(watch_, node);
  auto info = call_value<node_info>(sys_, node, ctx_->timeout, hello_atom_v, watch_);
  if (!info) {
    return info.err();
  }
  info_ = *info;
  auto sub = call_value<caf::ok_atom>(sys_, node, ctx_->timeout, subscribe_atom_v, watch_);
  return sub ? error{} : sub.err();
}

void remote_link::reconnect_if_lost() {
  if (!ctx_->lost) {
    return;
  }
  std::lock_guard<std::mutex> lock{reconnect_mutex_};
  if (!ctx_->lost) {
    return;
  }
  auto node = dial();
  if (!node) {
    return;
  }
  auto r = call_value<caf::ok_atom>(sys_, root_, ctx_->timeout,
                                    remote_retarget{caf::actor_cast<caf::actor>(*node)});
  if (!r) {
    return;
  }
  introduce(*node);
}

} // namespace uvm
