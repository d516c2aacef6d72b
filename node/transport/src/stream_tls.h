#pragma once
// OpenSSL contexts for the members' Raft stream: the same mutual TLS as the gRPC side (the member's
// certificate and key, the peer CA as the only trust anchor, a peer certificate required both ways).

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "etsecd/common/result.h"

namespace etsecd::transport::stream {

class TlsContexts {
 public:
  // From PEM text (certificate chain, private key, trusted CA bundle). Errors: transport.tls.
  static Result<std::shared_ptr<TlsContexts>> make(const std::string& cert_pem, const std::string& key_pem,
                                                   const std::string& ca_pem);
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  SSL_CTX* client() const { return client_; }
  SSL_CTX* server() const { return server_; }

 private:
  TlsContexts() = default;
  SSL_CTX* client_ = nullptr;
  SSL_CTX* server_ = nullptr;
};

// The reason OpenSSL gave for the last failure on this thread, for error messages.
std::string last_tls_error();

// Writing to a socket the peer closed raises SIGPIPE, which would end the member: the stream ignores it
// (errors come back as EPIPE instead), as gRPC and Boost.Asio do for their own sockets.
void ignore_sigpipe();

}  // namespace etsecd::transport::stream
