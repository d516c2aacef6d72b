// Reading certificates back: names, validity, chain and key checks used to decide on renewal.
#include <arpa/inet.h>
#include <openssl/x509_vfy.h>

#include <ctime>

#include "etsecd/pki/pki.h"
#include "openssl_handles.h"

namespace etsecd::pki {

using namespace detail;

namespace {

Result<TimePoint> to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return openssl_error("pki.bad_time", "reading a validity time");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string ip_to_string(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  if (len == 4) inet_ntop(AF_INET, data, buf, sizeof buf);
  if (len == 16) inet_ntop(AF_INET6, data, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<CertificateInfo> inspect_certificate(std::string_view certificate_pem) {
  Result<X509Ptr> cert = parse_certificate(certificate_pem);
  if (!cert) return cert.error();
  X509* c = cert->get();
  CertificateInfo info;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(c), NID_commonName, cn, sizeof cn) > 0) {
    info.common_name = cn;
  }
  Result<TimePoint> not_before = to_time_point(X509_get0_notBefore(c));
  if (!not_before) return not_before.error();
  Result<TimePoint> not_after = to_time_point(X509_get0_notAfter(c));
  if (!not_after) return not_after.error();
  info.not_before = *not_before;
  info.not_after = *not_after;
  info.is_ca = X509_check_ca(c) != 0;

  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(c, NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type == GEN_DNS) {
        const ASN1_STRING* s = name->d.dNSName;
        info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    static_cast<std::size_t>(ASN1_STRING_length(s)));
      } else if (name->type == GEN_IPADD) {
        info.ip_addresses.push_back(ip_to_string(name->d.iPAddress));
      }
    }
  }
  return info;
}

Status verify_signed_by(std::string_view certificate_pem, std::string_view ca_certificate_pem, TimePoint at) {
  Result<X509Ptr> cert = parse_certificate(certificate_pem);
  if (!cert) return cert.error();
  Result<X509Ptr> ca = parse_certificate(ca_certificate_pem);
  if (!ca) return ca.error();
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca->get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
    return openssl_error("pki.verify_setup_failed", "preparing verification");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return make_error("pki.untrusted", std::string("certificate does not verify against the CA: ") +
                                           X509_verify_cert_error_string(err));
  }
  return Status::Ok();
}

Status verify_key_matches(std::string_view certificate_pem, std::string_view private_key_pem) {
  Result<X509Ptr> cert = parse_certificate(certificate_pem);
  if (!cert) return cert.error();
  Result<PkeyPtr> key = parse_private_key(private_key_pem);
  if (!key) return key.error();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return make_error("pki.key_mismatch", "the private key does not belong to the certificate");
  }
  return Status::Ok();
}

bool needs_renewal(const CertificateInfo& info, TimePoint now, std::chrono::seconds renew_before) {
  return info.not_after - renew_before <= now;
}

}  // namespace etsecd::pki
