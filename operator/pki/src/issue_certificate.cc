// Minting: EC P-256 keys and X.509 v3 certificates (a self-signed CA and leaves it signs).
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include <ctime>

#include "etsecd/pki/pki.h"
#include "openssl_handles.h"

namespace etsecd::pki {

using namespace detail;

namespace {

// Certificates start slightly in the past so that a member whose clock lags a little accepts them.
constexpr std::chrono::minutes kBackdate{5};

Result<PkeyPtr> generate_p256_key() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return openssl_error("pki.keygen_failed", "generating an EC P-256 key");
  }
  return PkeyPtr(raw);
}

// A random positive 127-bit serial, as RFC 5280 asks for unpredictable serials.
Status set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return openssl_error("pki.rand_failed", "drawing a serial");
  bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  bool ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  if (!ok) return openssl_error("pki.serial_failed", "setting the serial");
  return Status::Ok();
}

Status add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl_error("pki.extension_failed", "adding extension " + value);
  }
  return Status::Ok();
}

// Everything but the issuer-dependent parts: version, serial, validity, subject, public key.
Result<X509Ptr> new_certificate(EVP_PKEY* key, const std::string& common_name, TimePoint now,
                                std::chrono::seconds validity) {
  X509Ptr cert(X509_new());
  if (!cert) return openssl_error("pki.alloc_failed", "allocating a certificate");
  if (X509_set_version(cert.get(), 2) != 1) return openssl_error("pki.version_failed", "setting v3");
  if (Status s = set_random_serial(cert.get()); !s) return s.error();
  std::time_t start = std::chrono::system_clock::to_time_t(now - kBackdate);
  std::time_t end = std::chrono::system_clock::to_time_t(now + validity);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), start) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), end) == nullptr) {
    return openssl_error("pki.validity_failed", "setting the validity period");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("etsecd"),
                                 -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                                 0) != 1) {
    return openssl_error("pki.subject_failed", "setting the subject");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) return openssl_error("pki.pubkey_failed", "setting the key");
  return cert;
}

Result<KeyAndCertificate> sign_and_encode(X509* cert, EVP_PKEY* signer, EVP_PKEY* subject_key) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) return openssl_error("pki.sign_failed", "signing");
  Result<std::string> cert_pem = certificate_to_pem(cert);
  if (!cert_pem) return cert_pem.error();
  Result<std::string> key_pem = private_key_to_pem(subject_key);
  if (!key_pem) return key_pem.error();
  return KeyAndCertificate{std::move(*cert_pem), std::move(*key_pem)};
}

}  // namespace

Result<KeyAndCertificate> create_ca(const std::string& common_name, TimePoint now,
                                    std::chrono::seconds validity) {
  Result<PkeyPtr> key = generate_p256_key();
  if (!key) return key.error();
  Result<X509Ptr> cert = new_certificate(key->get(), common_name, now, validity);
  if (!cert) return cert.error();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) {
    return openssl_error("pki.issuer_failed", "setting the issuer");
  }
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    if (Status s = add_extension(c, c, nid, value); !s) return s.error();
  }
  return sign_and_encode(c, key->get(), key->get());
}

Result<KeyAndCertificate> issue_leaf(const KeyAndCertificate& ca, const LeafRequest& request, TimePoint now) {
  if (request.dns_names.empty() && request.ip_addresses.empty() && !request.client_auth) {
    return make_error("pki.no_names", "a server certificate needs at least one DNS name or IP address");
  }
  Result<X509Ptr> ca_cert = parse_certificate(ca.certificate_pem);
  if (!ca_cert) return ca_cert.error();
  Result<PkeyPtr> ca_key = parse_private_key(ca.private_key_pem);
  if (!ca_key) return ca_key.error();
  if (Status s = verify_key_matches(ca.certificate_pem, ca.private_key_pem); !s) return s.error();

  Result<PkeyPtr> key = generate_p256_key();
  if (!key) return key.error();
  Result<X509Ptr> cert = new_certificate(key->get(), request.common_name, now, request.validity);
  if (!cert) return cert.error();
  X509* c = cert->get();
  if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert->get())) != 1) {
    return openssl_error("pki.issuer_failed", "setting the issuer");
  }
  std::string usages;
  if (request.server_auth) usages += "serverAuth";
  if (request.client_auth) usages += usages.empty() ? "clientAuth" : ",clientAuth";
  if (usages.empty()) return make_error("pki.no_usage", "a leaf certificate needs server or client usage");
  std::string sans;
  for (const std::string& dns : request.dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
  for (const std::string& ip : request.ip_addresses) sans += (sans.empty() ? "IP:" : ",IP:") + ip;

  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyAgreement"},
      {NID_ext_key_usage, usages},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  if (!sans.empty()) extensions.emplace_back(NID_subject_alt_name, sans);
  for (const auto& [nid, value] : extensions) {
    if (Status s = add_extension(c, ca_cert->get(), nid, value); !s) return s.error();
  }
  return sign_and_encode(c, ca_key->get(), key->get());
}

}  // namespace etsecd::pki
