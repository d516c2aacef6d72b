#include "etsecd/config/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace etsecd::config {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;
using Cert = std::unique_ptr<X509, X509Free>;

Error tls_error(std::string_view flag, const std::string& path, std::string_view why) {
  ERR_clear_error();
  return make_error("config.tls_file", "--" + std::string(flag) + "=" + path + ": " + std::string(why));
}

// Never prompts for a passphrase: encrypted keys are refused with a clear message instead of blocking.
int no_passphrase(char*, int, int, void*) { return -1; }

Result<File> open_readable(std::string_view flag, const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return tls_error(flag, path, "cannot be opened for reading");
  return f;
}

Result<std::vector<Cert>> read_certs(std::string_view flag, const std::string& path) {
  auto f = open_readable(flag, path);
  if (!f) return f.error();
  std::vector<Cert> certs;
  while (X509* x = PEM_read_X509(f->get(), nullptr, no_passphrase, nullptr)) certs.emplace_back(x);
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  if (certs.empty()) return tls_error(flag, path, "holds no PEM certificate");
  return certs;
}

}  // namespace

Status check_tls_files(const TlsFiles& tls, std::string_view flag_prefix) {
  const std::string p(flag_prefix);
  if (tls.cert_file.empty()) return Status::Ok();
  auto certs = read_certs(p + "cert-file", tls.cert_file);
  if (!certs) return certs.error();

  auto key_file = open_readable(p + "key-file", tls.key_file);
  if (!key_file) return key_file.error();
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_PrivateKey(key_file->get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return tls_error(p + "key-file", tls.key_file, "holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(certs->front().get(), key.get()) != 1) {
    return tls_error(p + "key-file", tls.key_file, "does not belong to the certificate in " + tls.cert_file);
  }

  if (tls.trusted_ca_file.empty()) return Status::Ok();
  auto cas = read_certs(p + "trusted-ca-file", tls.trusted_ca_file);
  if (!cas) return cas.error();
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  for (const Cert& ca : *cas) X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < certs->size(); ++i) {
    X509_up_ref((*certs)[i].get());
    sk_X509_push(untrusted.get(), (*certs)[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), certs->front().get(), untrusted.get()) != 1) {
    return tls_error(p + "trusted-ca-file", tls.trusted_ca_file, "cannot set up certificate verification");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return tls_error(p + "cert-file", tls.cert_file,
                     std::string("does not verify against ") + tls.trusted_ca_file + ": " +
                         X509_verify_cert_error_string(err));
  }
  return Status::Ok();
}

}  // namespace etsecd::config
