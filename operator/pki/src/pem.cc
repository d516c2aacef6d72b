// PEM <-> OpenSSL object conversions.
#include <openssl/pem.h>

#include "openssl_handles.h"

namespace etsecd::pki::detail {

namespace {
BioPtr memory_bio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}
}  // namespace

Result<X509Ptr> parse_certificate(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return openssl_error("pki.bad_certificate", "parsing PEM certificate");
  return cert;
}

Result<PkeyPtr> parse_private_key(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return openssl_error("pki.bad_private_key", "parsing PEM private key");
  return key;
}

Result<std::string> certificate_to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return openssl_error("pki.encode_failed", "writing PEM certificate");
  }
  return drain(bio.get());
}

Result<std::string> private_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return openssl_error("pki.encode_failed", "writing PEM private key");
  }
  return drain(bio.get());
}

}  // namespace etsecd::pki::detail
