// Logs every TLS handshake a node refuses, with the peer's address, and
// every peer it accepts with its certificate's subject. CAF 0.17's openssl
// module reports neither (Debian builds CAF with its logger compiled out),
// so uvmd wraps libssl's SSL_accept, which that module calls for each
// incoming connection: the wrapper calls the real one and looks at the
// outcome. Linking this file into an executable is all it takes.
#pragma once

namespace uvm::uvmd {

// The number of handshakes refused so far.
unsigned long tls_refusals();

} // namespace uvm::uvmd
