#pragma once
// One key/value pair of a structured log line. The value types are a closed, non-secret list: booleans,
// numbers and text. Byte buffers (std::vector<uint8_t>, std::span<const uint8_t>, uint8_t*, shares) are
// not on it, and Secret<>/SensitiveBytes or anything marked is_sensitive has a deleted constructor, so
// `log.info("put", {{"value", secret}})` is a compile error rather than a leak. Keys and revisions are
// plaintext metadata in etsecd and may be logged; values and shares may not (see secret.h for why).

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "etsecd/log/secret.h"

namespace etsecd::log {

template <class T>
concept LoggableValue =
    !is_sensitive_v<T> &&
    (std::same_as<std::remove_cvref_t<T>, bool> || std::integral<std::remove_cvref_t<T>> ||
     std::floating_point<std::remove_cvref_t<T>> || std::convertible_to<const T&, std::string_view>);

class Field {
 public:
  using Value = std::variant<bool, std::int64_t, std::uint64_t, double, std::string>;

  template <class T>
  requires LoggableValue<T> Field(std::string_view key, const T& value)
      : key_(key), value_(convert(value)) {}  // NOLINT

  // Values and shares never reach a log line.
  template <class T>
  requires is_sensitive_v<T> Field(std::string_view key, const T& value)
  = delete;

  const std::string& key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  template <class T>
  static Value convert(const T& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::same_as<U, bool>) {
      return v;
    } else if constexpr (std::integral<U> && std::is_signed_v<U>) {
      return static_cast<std::int64_t>(v);
    } else if constexpr (std::integral<U>) {
      return static_cast<std::uint64_t>(v);
    } else if constexpr (std::floating_point<U>) {
      return static_cast<double>(v);
    } else {
      return std::string(std::string_view(v));
    }
  }

  std::string key_;
  Value value_;
};

}  // namespace etsecd::log
