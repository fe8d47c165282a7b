#include "engine/remote_stdio.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "actors/core/stdio_pump.hpp"

namespace uvm {

// A lane of the endpoint's pump is done (from the endpoint's own threads).
struct stdio_lane_done {
  uint8_t stream = 0;
};
// The node's endpoint was not attached in time (from itself).
struct stdio_attach_deadline {};

} // namespace uvm

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::stdio_lane_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(uvm::stdio_attach_deadline)

namespace uvm {

namespace {

// Who the pump's threads send as, and to whom.
struct route {
  std::mutex mutex;
  caf::actor self;
  caf::actor peer;

  template <class... Ts>
  void to_peer(Ts&&... xs) {
    caf::actor from;
    caf::actor to;
    {
      std::lock_guard<std::mutex> lock{mutex};
      from = self;
      to = peer;
    }
    if (from && to) {
      caf::send_as(from, to, std::forward<Ts>(xs)...);
    }
  }
  void to_self(uint8_t stream) {
    caf::actor me;
    {
      std::lock_guard<std::mutex> lock{mutex};
      me = self;
    }
    if (me) {
      caf::send_as(me, me, stdio_lane_done{stream});
    }
  }
  void clear() {
    std::lock_guard<std::mutex> lock{mutex};
    self = nullptr;
    peer = nullptr;
  }
};

struct endpoint_setup {
  std::map<uint8_t, stdio_pump::source> sources;
  std::map<uint8_t, stdio_pump::sink> sinks;
  caf::actor peer;            // the client's side knows it at once
  std::function<void()> lost; // runs at the end if the peer was lost or never came
  std::chrono::milliseconds attach_timeout{0};
};

struct endpoint_state {
  std::shared_ptr<route> link = std::make_shared<route>();
  std::unique_ptr<stdio_pump> pump;
  std::map<uint8_t, bool> is_source;
  size_t open = 0;
  std::function<void()> lost;
  bool peer_lost = false;
  static inline const char* name = "stdio_endpoint";

  ~endpoint_state() {
    if (pump) {
      pump->stop();
    }
    link->clear();
    if (peer_lost && lost) {
      lost();
    }
  }
};

bool from_peer(caf::stateful_actor<endpoint_state>* self) {
  std::lock_guard<std::mutex> lock{self->state.link->mutex};
  const auto& sender = self->current_sender();
  return self->state.link->peer && sender &&
         sender == caf::actor_cast<caf::strong_actor_ptr>(self->state.link->peer);
}

// The peer is gone: write what arrived, take no more.
void wind_down(caf::stateful_actor<endpoint_state>* self) {
  for (auto [stream, source] : self->state.is_source) {
    if (source) {
      self->state.pump->abandon(stream);
    } else {
      self->state.pump->finish(stream);
    }
  }
}

caf::behavior stdio_endpoint(caf::stateful_actor<endpoint_state>* self, endpoint_setup setup) {
  auto& st = self->state;
  st.lost = std::move(setup.lost);
  auto link = st.link;
  link->self = caf::actor_cast<caf::actor>(self);
  link->peer = setup.peer;
  stdio_pump::callbacks cb;
  cb.data = [link](uint8_t s, std::string d) {
    link->to_peer(stdio_data_atom_v, static_cast<stdio_stream>(s), std::move(d));
  };
  cb.eof = [link](uint8_t s) { link->to_peer(stdio_eof_atom_v, static_cast<stdio_stream>(s)); };
  cb.credit = [link](uint8_t s, uint32_t n) {
    link->to_peer(stdio_credit_atom_v, static_cast<stdio_stream>(s), n);
  };
  cb.finished = [link](uint8_t s) { link->to_self(s); };
  st.pump = std::make_unique<stdio_pump>(std::move(cb));
  for (auto& [stream, src] : setup.sources) {
    st.is_source[stream] = true;
    st.pump->add_source(stream, std::move(src));
  }
  for (auto& [stream, snk] : setup.sinks) {
    st.is_source[stream] = false;
    st.pump->add_sink(stream, std::move(snk));
  }
  st.open = st.is_source.size();
  if (st.open == 0) {
    self->quit();
    return {};
  }
  auto greet = [self](const caf::actor& peer) {
    self->monitor(peer);
    // The sinks' first window of credit.
    for (auto [stream, source] : self->state.is_source) {
      if (!source) {
        self->send(peer, stdio_credit_atom_v, static_cast<stdio_stream>(stream),
                   stdio_pump::window);
      }
    }
  };
  if (setup.peer) {
    // The client's side: attach first, so that the node takes the credit.
    self->send(setup.peer, stdio_attach_atom_v, caf::actor_cast<caf::actor>(self));
    greet(setup.peer);
  } else if (setup.attach_timeout.count() > 0) {
    self->delayed_send(self, setup.attach_timeout, stdio_attach_deadline{});
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    std::lock_guard<std::mutex> lock{self->state.link->mutex};
    if (dm.source == self->state.link->peer.address()) {
      self->state.link->peer = nullptr;
      self->state.peer_lost = static_cast<bool>(dm.reason);
      wind_down(self);
    }
  });
  return {
      [self, greet](stdio_attach_atom, const caf::actor& client) {
        {
          std::lock_guard<std::mutex> lock{self->state.link->mutex};
          if (self->state.link->peer || !client) {
            return;
          }
          self->state.link->peer = client;
        }
        greet(client);
      },
      [self](stdio_attach_deadline) {
        std::lock_guard<std::mutex> lock{self->state.link->mutex};
        if (!self->state.link->peer) {
          self->state.peer_lost = true;
          self->quit();
        }
      },
      [self](stdio_data_atom, stdio_stream s, std::string& data) {
        if (from_peer(self)) {
          self->state.pump->push(static_cast<uint8_t>(s), std::move(data));
        }
      },
      [self](stdio_eof_atom, stdio_stream s) {
        if (!from_peer(self)) {
          return;
        }
        auto i = self->state.is_source.find(static_cast<uint8_t>(s));
        if (i == self->state.is_source.end()) {
          return;
        }
        if (i->second) {
          self->state.pump->abandon(i->first);
        } else {
          self->state.pump->finish(i->first);
        }
      },
      [self](stdio_credit_atom, stdio_stream s, uint32_t n) {
        if (from_peer(self)) {
          self->state.pump->grant(static_cast<uint8_t>(s), n);
        }
      },
      [self](const stdio_lane_done&) {
        if (self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(self)) {
          return;
        }
        if (--self->state.open == 0) {
          self->quit();
        }
      },
  };
}

stdio_pump::source channel_source(std::shared_ptr<bridge::process_stdio> keep,
                                  bridge::stdio_channel* ch) {
  return {[keep, ch](char* buf, size_t n) { return ch->read(buf, n); },
          [keep, ch] { ch->close(); }};
}

stdio_pump::sink channel_sink(std::shared_ptr<bridge::process_stdio> keep,
                              bridge::stdio_channel* ch) {
  return {[keep, ch](std::string_view d) { return ch->write(d); },
          [keep, ch] { ch->close_write(); }, [keep, ch] { ch->close(); }};
}

// A descriptor shared by the lane that uses it; closed with the last user.
struct fd_holder {
  int fd = -1;
  ~fd_holder() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

stdio_pump::source fd_source(std::shared_ptr<fd_holder> h) {
  return {[h](char* buf, size_t n) -> result<size_t> {
            for (;;) {
              auto r = ::recv(h->fd, buf, n, 0);
              if (r < 0 && errno == EINTR) {
                continue;
              }
              if (r < 0) {
                return error{errc::io_failure, std::string{"read stdio: "} + std::strerror(errno)};
              }
              return static_cast<size_t>(r);
            }
          },
          [h] { ::shutdown(h->fd, SHUT_RDWR); }};
}

stdio_pump::sink fd_sink(std::shared_ptr<fd_holder> h) {
  return {[h](std::string_view d) -> error {
            while (!d.empty()) {
              auto r = ::send(h->fd, d.data(), d.size(), MSG_NOSIGNAL);
              if (r < 0 && errno == EINTR) {
                continue;
              }
              if (r < 0) {
                return error{errc::io_failure, std::string{"write stdio: "} + std::strerror(errno)};
              }
              d.remove_prefix(static_cast<size_t>(r));
            }
            return {};
          },
          [h] { ::shutdown(h->fd, SHUT_WR); }, [h] { ::shutdown(h->fd, SHUT_RDWR); }};
}

result<std::shared_ptr<fd_holder>> dial(const std::string& path) {
  auto h = std::make_shared<fd_holder>();
  h->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (h->fd < 0) {
    return error{errc::io_failure, std::string{"socket: "} + std::strerror(errno)};
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return error{errc::io_failure, "relay socket path too long: " + path};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(h->fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return error{errc::io_failure, "connect " + path + ": " + std::strerror(errno)};
  }
  return h;
}

} // namespace

caf::actor spawn_node_stdio(caf::actor_system& sys, std::shared_ptr<bridge::process_stdio> stdio,
                            utility_vm_actor vm, std::string container_id, uint32_t pid,
                            std::chrono::milliseconds attach_timeout) {
  endpoint_setup setup;
  if (stdio) {
    if (stdio->in) {
      setup.sinks[static_cast<uint8_t>(stdio_stream::in)] = channel_sink(stdio, stdio->in.get());
    }
    if (stdio->out) {
      setup.sources[static_cast<uint8_t>(stdio_stream::out)] =
          channel_source(stdio, stdio->out.get());
    }
    if (stdio->err) {
      setup.sources[static_cast<uint8_t>(stdio_stream::err)] =
          channel_source(stdio, stdio->err.get());
    }
  }
  setup.attach_timeout = attach_timeout;
  // A client lost before it forgot the process: as a dropped local handle does.
  setup.lost = [vm, container_id, pid] {
    caf::anon_send(vm, forget_process_atom_v, container_id, pid);
  };
  return sys.spawn(stdio_endpoint, std::move(setup));
}

void stdio_client_gone(const caf::actor& node_endpoint) {
  caf::anon_send(node_endpoint, stdio_attach_deadline{});
}

result<process_started> attach_client_stdio(caf::actor_system& sys, const remote_process& p,
                                            const std::string& dir,
                                            std::atomic<uint32_t>& next_port,
                                            const std::function<void(const caf::actor&)>& spawned) {
  process_started started{p.container_id, p.pid, nullptr};
  if (!p.has_in && !p.has_out && !p.has_err) {
    return started;
  }
  auto stdio = std::make_shared<bridge::process_stdio>();
  endpoint_setup setup;
  setup.peer = p.stdio;
  struct wanted {
    bool has;
    std::unique_ptr<bridge::stdio_channel>* channel;
    stdio_stream stream;
  };
  for (auto w : {wanted{p.has_in, &stdio->in, stdio_stream::in},
                 wanted{p.has_out, &stdio->out, stdio_stream::out},
                 wanted{p.has_err, &stdio->err, stdio_stream::err}}) {
    if (!w.has) {
      continue;
    }
    auto port = next_port++;
    auto ch = bridge::stdio_channel::listen(dir, port);
    if (!ch) {
      return ch.err();
    }
    auto fd = dial(dir + "/port-" + std::to_string(port) + ".sock");
    if (!fd) {
      return fd.err();
    }
    *w.channel = std::move(*ch);
    auto s = static_cast<uint8_t>(w.stream);
    if (w.stream == stdio_stream::in) {
      setup.sources[s] = fd_source(*fd);
    } else {
      setup.sinks[s] = fd_sink(*fd);
    }
  }
  spawned(sys.spawn(stdio_endpoint, std::move(setup)));
  started.stdio = std::move(stdio);
  return started;
}

} // namespace uvm
