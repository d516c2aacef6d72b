#include "etsecd/log/secret.h"

#include <doctest/doctest.h>

#include <concepts>
#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "etsecd/log/field.h"
#include "etsecd/log/logger.h"

using etsecd::Secret;
using etsecd::SensitiveBytes;
using etsecd::log::Field;
using etsecd::log::Logger;

namespace {

// A type another module marks as secret.
struct ShareRecord {
  std::vector<std::uint8_t> y;
};

template <class T>
concept Loggable = requires(const Logger& log, const T& v) {
  log.info("m", {{"k", v}});
};

template <class T>
concept Streamable = requires(std::ostream& os, const T& v) {
  os << v;
};

}  // namespace

template <>
struct etsecd::is_sensitive<ShareRecord> : std::true_type {};

// The compile-time guarantees, as requires-expressions over the real logger API.
static_assert(Loggable<int>);
static_assert(Loggable<std::uint64_t>);
static_assert(Loggable<bool>);
static_assert(Loggable<double>);
static_assert(Loggable<std::string>);
static_assert(Loggable<std::string_view>);
static_assert(Loggable<const char*>);
static_assert(!Loggable<SensitiveBytes>);
static_assert(!Loggable<Secret<std::string>>);
static_assert(!Loggable<Secret<int>>);
static_assert(!Loggable<ShareRecord>);
static_assert(!Loggable<std::vector<std::uint8_t>>);
static_assert(!Loggable<std::span<const std::uint8_t>>);
static_assert(!Loggable<const std::uint8_t*>);
static_assert(!std::is_constructible_v<Field, std::string_view, const SensitiveBytes&>);
static_assert(!std::is_convertible_v<SensitiveBytes, std::string_view>);
static_assert(!std::is_convertible_v<SensitiveBytes, std::vector<std::uint8_t>>);
static_assert(!Streamable<SensitiveBytes>);
static_assert(!Streamable<Secret<std::string>>);
static_assert(!std::equality_comparable<SensitiveBytes>);

TEST_CASE("Secret keeps its bytes behind reveal()") {
  SensitiveBytes s(std::vector<std::uint8_t>{1, 2, 3});
  CHECK(s.reveal().size() == 3);
  SensitiveBytes copy = s;
  CHECK(copy.reveal() == s.reveal());
  SensitiveBytes moved = std::move(copy);
  CHECK(moved.reveal() == std::vector<std::uint8_t>{1, 2, 3});
  moved = SensitiveBytes(std::vector<std::uint8_t>{9});
  CHECK(moved.reveal() == std::vector<std::uint8_t>{9});
  moved = s;
  CHECK(moved.reveal().size() == 3);
}

TEST_CASE("secure_wipe zeroes the buffer") {
  std::vector<std::uint8_t> bytes = {0xde, 0xad, 0xbe, 0xef};
  etsecd::secure_wipe(bytes.data(), bytes.size());
  CHECK(bytes == std::vector<std::uint8_t>(4, 0));
}
