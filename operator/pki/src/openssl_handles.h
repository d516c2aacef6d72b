#pragma once
// Owning handles for the OpenSSL objects the pki module uses, and the one place that turns OpenSSL's
// error queue into an etsecd::Error.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "etsecd/common/result.h"

namespace etsecd::pki::detail {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

// The newest OpenSSL error, prefixed by what we were doing; clears the queue.
inline Error openssl_error(std::string code, std::string_view doing) {
  unsigned long e = ERR_get_error();
  std::string detail = "unknown error";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    detail = buf;
  }
  ERR_clear_error();
  return make_error(std::move(code), std::string(doing) + ": " + detail);
}

Result<X509Ptr> parse_certificate(std::string_view pem);
Result<PkeyPtr> parse_private_key(std::string_view pem);
Result<std::string> certificate_to_pem(X509* cert);
Result<std::string> private_key_to_pem(EVP_PKEY* key);

}  // namespace etsecd::pki::detail
