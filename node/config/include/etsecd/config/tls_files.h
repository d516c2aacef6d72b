#pragma once
// Start-up checks of TLS files, so a wrong path or a mismatched key fails with a clear message before
// the member opens a port instead of as an opaque handshake error later.

#include <string_view>

#include "etsecd/common/result.h"
#include "etsecd/config/config.h"

namespace etsecd::config {

// Checks that every file named in `tls` is readable PEM, that the key belongs to the certificate and,
// when a trusted CA is given, that the certificate chains to it and is within its validity period.
// `flag_prefix` is "" for client TLS and "peer-" for peer TLS (used in messages). Code: config.tls_file.
Status check_tls_files(const TlsFiles& tls, std::string_view flag_prefix);

}  // namespace etsecd::config
