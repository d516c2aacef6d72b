#include "etsecd/config/url.h"

#include <charconv>

namespace etsecd::config {
namespace {

Error bad_url(std::string_view flag, std::string_view text, std::string_view why) {
  return make_error("config.bad_url", std::string(flag) + ": \"" + std::string(text) +
                                          "\" is not a valid URL: " + std::string(why) +
                                          " (expected scheme://host:port, e.g. https://127.0.0.1:2379)");
}

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return host.front() != '.' && host.front() != '-';
}

bool valid_ipv6(std::string_view host) {
  if (host.size() < 2) return false;
  int colons = 0;
  for (char c : host) {
    bool ok =
        (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
    if (!ok) return false;
    colons += c == ':';
  }
  return colons >= 2;
}

}  // namespace

std::string Url::host_port() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::str() const { return scheme + "://" + host_port(); }

Result<Url> parse_url(std::string_view text, std::string_view flag) {
  Url url;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return bad_url(flag, text, "no scheme");
  url.scheme = std::string(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return bad_url(flag, text, "scheme must be http or https");
  }
  std::string_view rest = text.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return bad_url(flag, text, "a path, query or user part is not allowed");
  }
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad_url(flag, text, "unclosed '[' in IPv6 address");
    host = rest.substr(1, close - 1);
    if (!valid_ipv6(host)) return bad_url(flag, text, "bad IPv6 address");
    std::string_view after = rest.substr(close + 1);
    if (after.empty() || after.front() != ':') return bad_url(flag, text, "missing :port");
    port = after.substr(1);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad_url(flag, text, "missing :port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad_url(flag, text, "an IPv6 address must be written in brackets, e.g. [::1]:2379");
    }
    if (!valid_hostname(host)) return bad_url(flag, text, "bad host name");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return bad_url(flag, text, "port must be a number in 1..65535");
  }
  url.host = std::string(host);
  url.port = static_cast<std::uint16_t>(value);
  return url;
}

Result<std::vector<Url>> parse_url_list(std::string_view text, std::string_view flag) {
  std::vector<Url> urls;
  if (text.empty()) return make_error("config.missing", std::string(flag) + " needs at least one URL");
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    auto url = parse_url(item, flag);
    if (!url) return url.error();
    urls.push_back(std::move(url.value()));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return urls;
}

}  // namespace etsecd::config
