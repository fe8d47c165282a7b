// The anchor of uvm-bench remote: CAF's own pipelined request rate between
// two processes on loopback, measured in the same run. A child process
// (`uvm-bench remote-echo`) publishes an actor that answers an int with
// that int; one client actor keeps `window` requests in flight. Plain CAF
// with two scheduler threads, as the engine runs, and no engine.
#include <csignal>
#include <cstdio>
#include <future>
#include <memory>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"

namespace uvm::bench {

namespace {

std::unique_ptr<caf::actor_system_config> anchor_config(const tls_options& tls) {
  auto cfg = std::make_unique<caf::actor_system_config>();
  cfg->load<caf::io::middleman>();
  cfg->set("scheduler.max-threads", 2);
  if (!tls.empty()) {
    cfg->load<caf::openssl::manager>();
    cfg->openssl_certificate = tls.certificate;
    cfg->openssl_key = tls.key;
    cfg->openssl_cafile = tls.ca_file;
  }
  return cfg;
}

} // namespace

int remote_echo(const tls_options& tls) {
  // Every thread CAF starts inherits the mask: SIGTERM waits for sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  auto cfg = anchor_config(tls);
  caf::actor_system sys{*cfg};
  auto echo = sys.spawn([]() -> caf::behavior { return {[](int x) { return x; }}; });
  auto port = tls.empty() ? sys.middleman().publish(echo, 0, "127.0.0.1", true)
                          : caf::openssl::publish(echo, 0, "127.0.0.1", true);
  if (!port) {
    std::fprintf(stderr, "uvm-bench remote-echo: %s\n", sys.render(port.error()).c_str());
    caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::printf("listening 127.0.0.1:%u\n", static_cast<unsigned>(*port));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  return 0;
}

double caf_echo_rate(const std::string& host, uint16_t port, const tls_options& tls, int window,
                     int calls) {
  auto cfg = anchor_config(tls);
  caf::actor_system sys{*cfg};
  auto echo = tls.empty() ? sys.middleman().remote_actor(host, port)
                          : caf::openssl::remote_actor(sys, host, port);
  if (!echo) {
    return 0;
  }
  std::promise<double> rate;
  auto result = rate.get_future();
  sys.spawn([&, target = *echo](caf::event_based_actor* self) {
    struct progress {
      int issued = 0;
      int answered = 0;
      bool finished = false;
      clock_type::time_point t0 = clock_type::now();
    };
    auto p = std::make_shared<progress>();
    auto next = std::make_shared<std::function<void()>>();
    *next = [self, p, next, target, calls, &rate] {
      if (p->issued == calls) {
        return;
      }
      ++p->issued;
      self->request(target, caf::infinite, p->issued)
          .then(
              [self, p, next, calls, &rate](int) {
                if (p->finished) {
                  return;
                }
                if (++p->answered == calls) {
                  p->finished = true;
                  rate.set_value(calls / seconds_since(p->t0));
                  *next = nullptr; // it holds itself
                  self->quit();
                  return;
                }
                (*next)();
              },
              [self, p, next, &rate](caf::error&) {
                if (!p->finished) {
                  p->finished = true;
                  rate.set_value(0);
                  *next = nullptr;
                  self->quit();
                }
              });
    };
    for (int i = 0; i < window; ++i) {
      (*next)();
    }
  });
  auto r = result.get();
  sys.await_all_actors_done();
  return r;
}

} // namespace uvm::bench
