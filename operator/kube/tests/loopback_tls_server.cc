#include "loopback_tls_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <stdexcept>

namespace etsecd::kube::testing {
namespace {

std::string pem_of_cert(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem_of_key(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) throw std::runtime_error("bad test certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Returns a certificate for key signed by issuer_key (self-signed when issuer is null).
X509* make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, long serial,
                const std::vector<std::pair<int, std::string>>& extensions) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  for (const auto& [nid, value] : extensions)
    add_ext(cert, issuer != nullptr ? issuer : cert, nid, value.c_str());
  X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return cert;
}

}  // namespace

TestPki TestPki::make(const std::string& server_sans) {
  EVP_PKEY* ca_key = EVP_EC_gen("P-256");
  EVP_PKEY* server_key = EVP_EC_gen("P-256");
  EVP_PKEY* client_key = EVP_EC_gen("P-256");
  X509* ca = make_cert(
      ca_key, "etsecd test CA", nullptr, nullptr, 1,
      {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign,cRLSign"}});
  X509* server = make_cert(server_key, "kube-apiserver", ca, ca_key, 2,
                           {{NID_subject_alt_name, server_sans}, {NID_ext_key_usage, "serverAuth"}});
  X509* client = make_cert(client_key, "etsecd-operator", ca, ca_key, 3, {{NID_ext_key_usage, "clientAuth"}});
  TestPki pki{pem_of_cert(ca), pem_of_cert(server), pem_of_key(server_key), pem_of_cert(client),
              pem_of_key(client_key)};
  X509_free(ca);
  X509_free(server);
  X509_free(client);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(server_key);
  EVP_PKEY_free(client_key);
  return pki;
}

bool Responder::write(const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    int n = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

void Responder::respond(int status, const std::string& body, const std::string& content_type) {
  write("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

void Responder::begin_chunked(int status, const std::string& content_type) {
  write("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + content_type +
        "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
}

bool Responder::chunk(const std::string& data) {
  if (data.empty()) return true;
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return write(size + data + "\r\n");
}

void Responder::end_chunked() { write("0\r\n\r\n"); }

LoopbackTlsServer::LoopbackTlsServer(const TestPki& pki, Handler handler, bool require_client_certificate)
    : handler_(std::move(handler)) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-stream must not kill the test
  ctx_ = SSL_CTX_new(TLS_server_method());
  BIO* cert_bio = BIO_new_mem_buf(pki.server_cert_pem.data(), static_cast<int>(pki.server_cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(pki.server_key_pem.data(), static_cast<int>(pki.server_key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  if (SSL_CTX_use_certificate(ctx_, cert) != 1 || SSL_CTX_use_PrivateKey(ctx_, key) != 1) {
    throw std::runtime_error("test server cannot load its certificate");
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  if (require_client_certificate) {
    BIO* ca_bio = BIO_new_mem_buf(pki.ca_pem.data(), static_cast<int>(pki.ca_pem.size()));
    X509* ca = PEM_read_bio_X509(ca_bio, nullptr, nullptr, nullptr);
    BIO_free(ca_bio);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), ca);
    X509_free(ca);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }

  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("test server cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LoopbackTlsServer::~LoopbackTlsServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();
  SSL_CTX_free(ctx_);
}

std::string LoopbackTlsServer::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

std::vector<RecordedRequest> LoopbackTlsServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void LoopbackTlsServer::accept_loop() {
  while (true) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::lock_guard lock(mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    open_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void LoopbackTlsServer::serve(int fd) {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string data;
    char buf[4096];
    std::size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
    }
    if (header_end != std::string::npos) {
      RecordedRequest request;
      X509* peer = SSL_get1_peer_certificate(ssl);
      request.client_certificate = peer != nullptr;
      X509_free(peer);
      std::string head = data.substr(0, header_end);
      std::size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      std::size_t s1 = request_line.find(' ');
      std::size_t s2 = request_line.rfind(' ');
      request.method = request_line.substr(0, s1);
      request.target = request_line.substr(s1 + 1, s2 - s1 - 1);
      std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        std::size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        std::string line = head.substr(pos, end - pos);
        std::size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(),
                         [](unsigned char c) { return std::tolower(c); });
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          request.headers[name] = value;
        }
        pos = end + 2;
      }
      std::size_t length =
          request.headers.count("content-length") ? std::stoul(request.headers["content-length"]) : 0;
      request.body = data.substr(header_end + 4);
      while (request.body.size() < length) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        request.body.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
      }
      Responder responder(ssl);
      handler_(request, responder);
    }
    SSL_shutdown(ssl);
  }
  ERR_clear_error();
  SSL_free(ssl);
  std::lock_guard lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

}  // namespace etsecd::kube::testing
