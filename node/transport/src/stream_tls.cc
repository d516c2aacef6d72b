#include "stream_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <csignal>
#include <mutex>

namespace etsecd::transport::stream {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr mem(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Status load(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem,
            const std::string& ca_pem) {
  // Only TLS 1.3; no session tickets (a member reconnects rarely, and the opening side never reads).
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  auto certs = mem(cert_pem);
  X509* leaf = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf) != 1) {
    X509_free(leaf);
    return make_error("transport.tls", "peer certificate: " + last_tls_error());
  }
  X509_free(leaf);
  while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) {  // takes ownership on success
      X509_free(extra);
      return make_error("transport.tls", "peer certificate chain: " + last_tls_error());
    }
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  auto key_bio = mem(key_pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  const bool key_ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  if (!key_ok) return make_error("transport.tls", "peer key: " + last_tls_error());
  auto ca_bio = mem(ca_pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, ca) == 1) ++added;
    X509_free(ca);
  }
  ERR_clear_error();
  if (added == 0) return make_error("transport.tls", "peer trusted CA file holds no certificate");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // The accepting side reads everything the socket holds at once and hands all of it to the member
  // together (stream_listener.cc): a busy stream costs fewer reads and hand-offs than it has records.
  SSL_CTX_set_read_ahead(ctx, 1);
  return Status::Ok();
}

}  // namespace

std::string last_tls_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

Result<std::shared_ptr<TlsContexts>> TlsContexts::make(const std::string& cert_pem,
                                                       const std::string& key_pem,
                                                       const std::string& ca_pem) {
  std::shared_ptr<TlsContexts> c(new TlsContexts());
  c->client_ = SSL_CTX_new(TLS_client_method());
  c->server_ = SSL_CTX_new(TLS_server_method());
  if (!c->client_ || !c->server_) return make_error("transport.tls", "cannot create TLS contexts");
  if (auto st = load(c->client_, cert_pem, key_pem, ca_pem); !st) return st.error();
  if (auto st = load(c->server_, cert_pem, key_pem, ca_pem); !st) return st.error();
  return c;
}

TlsContexts::~TlsContexts() {
  SSL_CTX_free(client_);
  SSL_CTX_free(server_);
}

}  // namespace etsecd::transport::stream
