#include "tools/uvmd/tls_refusals.hpp"

#include <atomic>
#include <string>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include "actors/core/logging.hpp"

namespace uvm::uvmd {

namespace {

std::atomic<unsigned long> refused{0};

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

using accept_fn = int (*)(SSL*);

accept_fn real_accept() {
  static accept_fn fn = reinterpret_cast<accept_fn>(::dlsym(RTLD_NEXT, "SSL_accept"));
  return fn;
}

} // namespace

unsigned long tls_refusals() {
  return refused;
}

} // namespace uvm::uvmd

extern "C" int SSL_accept(SSL* ssl) {
  using namespace uvm::uvmd;
  auto fn = real_accept();
  if (fn == nullptr) {
    return -1;
  }
  int ret = fn(ssl);
  if (ret == 1) {
    std::string subject = "no certificate";
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char buf[256] = {};
      X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
      subject = buf;
      X509_free(cert);
    }
    uvm::logging::info({}, "TLS peer accepted", {{"peer", peer_of(ssl)}, {"subject", subject}});
    return ret;
  }
  int code = SSL_get_error(ssl, ret);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
    return ret;
  }
  char reason[256] = "connection closed during the handshake";
  if (auto e = ERR_peek_error(); e != 0) {
    ERR_error_string_n(e, reason, sizeof reason);
  }
  ++refused;
  uvm::logging::warn({}, "TLS handshake refused", {{"peer", peer_of(ssl)}, {"reason", reason}});
  return ret;
}
