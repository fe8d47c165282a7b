// CAF 0.17's openssl module calls SSL_read, SSL_write, SSL_accept and
// SSL_connect without clearing OpenSSL's per-thread error queue first, as
// OpenSSL requires. An error one connection leaves there (a peer that went
// away) then fails the next call of another connection on the same
// thread, and CAF closes that one too: one client leaving dropped every
// other TLS client of a node. The engine library wraps those four calls
// (tls_guard.cpp): each clears the queue, then calls libssl's. Every
// executable that links uvm_engine exports the wrappers (CMakeLists.txt),
// so they take the place of libssl's for CAF.
#pragma once

#include <functional>
#include <string>

namespace uvm::tls {

// One incoming TLS handshake that ended: accepted (with the peer
// certificate's subject) or refused (with OpenSSL's reason).
struct handshake {
  bool accepted = false;
  std::string peer;   // HOST:PORT
  std::string detail; // subject or reason
};

// Called on the middleman's thread for every incoming handshake that ends.
void on_handshake(std::function<void(const handshake&)> observer);

// True once the wrappers are in place (the engine checks it when it
// starts networking; it also makes the linker keep them).
bool guard_active();

} // namespace uvm::tls
