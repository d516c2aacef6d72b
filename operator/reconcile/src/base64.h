#pragma once
// Base64 (RFC 4648, with padding) for Secret data.

#include <optional>
#include <string>
#include <string_view>

namespace etsecd::reconcile::detail {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt on malformed input

}  // namespace etsecd::reconcile::detail
