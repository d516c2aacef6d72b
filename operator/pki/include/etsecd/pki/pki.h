#pragma once
// Certificates for etsecd members and clients: an EC P-256 CA, leaf certificates it signs, and the
// checks the reconciler needs to decide whether a stored certificate can be kept. Everything is PEM in
// and PEM out so that callers never see OpenSSL types. Keys come from OpenSSL's CSPRNG.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::pki {

using TimePoint = std::chrono::system_clock::time_point;

struct KeyAndCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  // PKCS#8
};

struct LeafRequest {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server_auth = true;
  bool client_auth = true;
  std::chrono::seconds validity{std::chrono::hours(24 * 365)};
};

// A self-signed CA certificate valid from shortly before now.
Result<KeyAndCertificate> create_ca(const std::string& common_name, TimePoint now,
                                    std::chrono::seconds validity);

// A leaf certificate for request, signed by ca, with a fresh key.
Result<KeyAndCertificate> issue_leaf(const KeyAndCertificate& ca, const LeafRequest& request, TimePoint now);

struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  TimePoint not_before;
  TimePoint not_after;
  bool is_ca = false;
};

Result<CertificateInfo> inspect_certificate(std::string_view certificate_pem);

// OK when certificate_pem chains to ca_certificate_pem and is valid at `at`.
Status verify_signed_by(std::string_view certificate_pem, std::string_view ca_certificate_pem, TimePoint at);

// OK when private_key_pem is the key of certificate_pem.
Status verify_key_matches(std::string_view certificate_pem, std::string_view private_key_pem);

// True when the certificate expires within renew_before of now (or already has).
bool needs_renewal(const CertificateInfo& info, TimePoint now, std::chrono::seconds renew_before);

}  // namespace etsecd::pki
