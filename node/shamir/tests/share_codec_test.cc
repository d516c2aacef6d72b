// The share encoding: round trips, and every kind of damage is rejected with its own error.

#include "etsecd/shamir/share_codec.h"

#include <doctest/doctest.h>

#include "test_util.h"

namespace etsecd::shamir {
namespace {

std::vector<uint8_t> sample_encoding(size_t length = 37) {
  std::mt19937_64 gen(length);
  const std::vector<uint8_t> y = testing::random_bytes(gen, length);
  return encode_share(ShareView(42, y), 3);
}

// Re-seals a hand-edited encoding with a valid CRC, to reach the field checks behind it.
void reseal(std::vector<uint8_t>& bytes) {
  const size_t body = bytes.size() - 4;
  const uint32_t crc = crc32c(std::span(bytes).first(body));
  for (int i = 0; i < 4; ++i) bytes[body + i] = static_cast<uint8_t>(crc >> (8 * i));
}

std::string decode_error(std::span<const uint8_t> bytes) {
  auto r = decode_share(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(r.error().message.empty());
  return r.error().code;
}

TEST_CASE("encode then decode round-trips, for every length class") {
  for (size_t length : {0, 1, 7, 8, 9, 100, 4096, 100000}) {
    std::mt19937_64 gen(length);
    const std::vector<uint8_t> y = testing::random_bytes(gen, length);
    const std::vector<uint8_t> bytes = encode_share(ShareView(200, y), 17);
    REQUIRE(bytes.size() == encoded_share_size(length));
    auto decoded = decode_share(bytes);
    REQUIRE(decoded.ok());
    CHECK(decoded->k == 17);
    CHECK(decoded->share.x == 200);
    CHECK(std::vector<uint8_t>(decoded->share.y.begin(), decoded->share.y.end()) == y);
    CHECK(decoded->share.y.data() == bytes.data() + 7);  // a view, no copy
  }
}

TEST_CASE("decoded shares combine") {
  auto rng = make_deterministic(4);
  const std::vector<uint8_t> secret{10, 20, 30, 40, 50};
  auto shares = split(secret, 2, std::vector<uint8_t>{6, 7}, *rng);
  REQUIRE(shares.ok());
  const auto a = encode_share((*shares)[0], 2);
  const auto b = encode_share((*shares)[1], 2);
  auto da = decode_share(a);
  auto db = decode_share(b);
  REQUIRE(da.ok());
  REQUIRE(db.ok());
  auto back = combine(std::vector<ShareView>{db->share, da->share}, da->k);
  REQUIRE(back.ok());
  CHECK(*back == secret);
}

TEST_CASE("every truncation is rejected") {
  const std::vector<uint8_t> bytes = sample_encoding();
  CHECK(decode_error({}) == "codec.truncated");
  for (size_t n = 1; n < bytes.size(); ++n)
    CHECK(decode_error(std::span(bytes).first(n)) == "codec.truncated");
}

TEST_CASE("trailing bytes are a length error") {
  std::vector<uint8_t> bytes = sample_encoding();
  bytes.push_back(0);
  CHECK(decode_error(bytes) == "codec.bad_length");
}

TEST_CASE("a foreign version is rejected before anything else") {
  std::vector<uint8_t> bytes = sample_encoding();
  for (unsigned v : {0u, 2u, 255u}) {
    bytes[0] = static_cast<uint8_t>(v);
    CHECK(decode_error(bytes) == "codec.bad_version");
    CHECK(decode_error(std::span(bytes).first(3)) == "codec.bad_version");
  }
}

TEST_CASE("every single-bit flip is rejected") {
  const std::vector<uint8_t> good = sample_encoding(20);
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::vector<uint8_t> bytes = good;
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CAPTURE(bit);
    const std::string code = decode_error(bytes);
    if (bit < 8) {
      CHECK(code == "codec.bad_version");
    } else if (bit >= 24 && bit < 56) {
      CHECK((code == "codec.truncated" || code == "codec.bad_length"));  // the length field
    } else {
      CHECK(code == "codec.bad_crc");  // x, k, y and the CRC itself
    }
  }
}

TEST_CASE("x = 0 and k < 2 are rejected even with a valid CRC") {
  std::vector<uint8_t> bytes = sample_encoding();
  bytes[1] = 0;
  reseal(bytes);
  CHECK(decode_error(bytes) == "codec.zero_x");
  bytes = sample_encoding();
  for (uint8_t k : {uint8_t{0}, uint8_t{1}}) {
    bytes[2] = k;
    reseal(bytes);
    CHECK(decode_error(bytes) == "codec.bad_threshold");
  }
}

TEST_CASE("a huge announced length is truncation, not an allocation") {
  std::vector<uint8_t> bytes = sample_encoding();
  bytes[3] = bytes[4] = bytes[5] = bytes[6] = 0xFF;
  CHECK(decode_error(bytes) == "codec.truncated");
}

}  // namespace
}  // namespace etsecd::shamir
