#include "engine/tls_guard.hpp"

#include <mutex>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

namespace uvm::tls {

namespace {

std::mutex observer_mutex;
std::function<void(const handshake&)> observer;

template <class Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

std::string peer_of(SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(SSL_get_fd(ssl), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "unknown peer";
  }
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    port = ntohs(in->sin6_port);
  }
  return std::string{host} + ":" + std::to_string(port);
}

void report(SSL* ssl, int ret) {
  std::function<void(const handshake&)> fn;
  {
    std::lock_guard<std::mutex> lock{observer_mutex};
    fn = observer;
  }
  if (!fn) {
    return;
  }
  handshake h;
  h.peer = peer_of(ssl);
  if (ret == 1) {
    h.accepted = true;
    h.detail = "no certificate";
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char buf[256] = {};
      X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
      h.detail = buf;
      X509_free(cert);
    }
  } else {
    char reason[256] = "connection closed during the handshake";
    if (auto e = ERR_peek_error(); e != 0) {
      ERR_error_string_n(e, reason, sizeof reason);
    }
    h.detail = reason;
  }
  fn(h);
}

} // namespace

void on_handshake(std::function<void(const handshake&)> fn) {
  std::lock_guard<std::mutex> lock{observer_mutex};
  observer = std::move(fn);
}

bool guard_active() {
  return ::dlsym(RTLD_DEFAULT, "SSL_read") == reinterpret_cast<void*>(&SSL_read);
}

} // namespace uvm::tls

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto fn = uvm::tls::real<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto fn = uvm::tls::real<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static auto fn = uvm::tls::real<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return fn(ssl);
}

int SSL_accept(SSL* ssl) {
  static auto fn = uvm::tls::real<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  int ret = fn(ssl);
  if (ret != 1) {
    int code = SSL_get_error(ssl, ret);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
      return ret;
    }
  }
  uvm::tls::report(ssl, ret);
  return ret;
}

} // extern "C"
