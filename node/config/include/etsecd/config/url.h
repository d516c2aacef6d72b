#pragma once
// Listen and advertise addresses in the form etcd uses: scheme://host:port, nothing else.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::config {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // name, IPv4 address, or IPv6 address without brackets
  std::uint16_t port = 0;

  // Back to text: "https://[::1]:2379".
  std::string str() const;
  // "host:port" (IPv6 bracketed), the form gRPC and sockets take.
  std::string host_port() const;
  friend bool operator==(const Url&, const Url&) = default;
};

// Parses one URL. `flag` names the option in the error message. Error code: config.bad_url.
Result<Url> parse_url(std::string_view text, std::string_view flag);

// Parses a comma-separated, non-empty list of URLs. Errors: config.bad_url, config.missing.
Result<std::vector<Url>> parse_url_list(std::string_view text, std::string_view flag);

}  // namespace etsecd::config
