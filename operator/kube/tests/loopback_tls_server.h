#pragma once
// A tiny HTTPS/1.1 server on 127.0.0.1 for tests: TLS by OpenSSL with certificates minted at test
// time, one thread per connection, one request per connection (it answers "Connection: close"). The
// test's handler sees each request and writes a plain or a chunked response, so that it can stream
// watch events in arbitrary pieces.

#include <openssl/ssl.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace etsecd::kube::testing {

struct TestPki {
  std::string ca_pem;
  std::string server_cert_pem, server_key_pem;
  std::string client_cert_pem, client_key_pem;
  // A CA, a server certificate for the given SANs (e.g. "IP:127.0.0.1") and a client certificate.
  static TestPki make(const std::string& server_sans = "IP:127.0.0.1");
};

struct RecordedRequest {
  std::string method;
  std::string target;                          // path?query as sent
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool client_certificate = false;  // the client presented a certificate
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class Responder {
 public:
  explicit Responder(SSL* ssl) : ssl_(ssl) {}
  void respond(int status, const std::string& body, const std::string& content_type = "application/json");
  void begin_chunked(int status, const std::string& content_type = "application/json");
  bool chunk(const std::string& data);  // false when the client went away
  void end_chunked();

 private:
  bool write(const std::string& data);
  SSL* ssl_;
};

class LoopbackTlsServer {
 public:
  using Handler = std::function<void(const RecordedRequest&, Responder&)>;
  LoopbackTlsServer(const TestPki& pki, Handler handler, bool require_client_certificate = false);
  ~LoopbackTlsServer();

  std::string url() const;
  std::vector<RecordedRequest> requests() const;

 private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> connections_;
  std::vector<int> open_fds_;
  std::vector<RecordedRequest> requests_;
  bool stopping_ = false;
};

}  // namespace etsecd::kube::testing
