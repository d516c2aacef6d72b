// Known-answer vectors. The pinned bytes were computed once by this codec; each is ALSO re-derived here
// by means independent of the production arithmetic (hand calculation, or the coefficients drawn in
// the documented order and evaluated with the naive reference multiply), so a pinned vector cannot
// merely freeze a bug.

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "etsecd/shamir/share_codec.h"
#include "test_util.h"

namespace etsecd::shamir {
namespace {

std::string hex(std::span<const uint8_t> bytes) {
  std::string out;
  char buf[3];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

std::vector<uint8_t> kat_secret(size_t n) {
  std::vector<uint8_t> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<uint8_t>(i * 11 + 1);
  return s;
}

// Re-derives split() from its documented contract: per chunk of split_chunk_bytes(k), one fill of
// (k-1) rows; share byte = sum_d coeff_d * x^d with coeff_0 = secret byte.
std::vector<Share> reference_split(const std::vector<uint8_t>& secret, unsigned k,
                                   const std::vector<uint8_t>& xs, uint64_t seed) {
  auto rng = make_deterministic(seed);
  std::vector<Share> shares;
  for (uint8_t x : xs) shares.push_back(Share{x, std::vector<uint8_t>(secret.size())});
  const size_t chunk = split_chunk_bytes(k);
  for (size_t off = 0; off < secret.size(); off += chunk) {
    const size_t m = std::min(chunk, secret.size() - off);
    std::vector<uint8_t> coeff((k - 1) * m);
    rng->fill(coeff);
    for (size_t j = 0; j < m; ++j) {
      std::vector<uint8_t> poly{secret[off + j]};
      for (unsigned d = 1; d < k; ++d) poly.push_back(coeff[(d - 1) * m + j]);
      for (Share& s : shares) s.y[off + j] = testing::ref_eval(poly, s.x);
    }
  }
  return shares;
}

TEST_CASE("hand-computed split: k=2, coefficient 0x80") {
  // f(x) = s + 0x80 x. 0x80 * 2 = x^8 = x^4+x^3+x+1 = 0x1B; 0x80 * 3 = 0x80 ^ 0x1B = 0x9B.
  testing::FixedBytes rng({0x80});
  auto shares = split(std::vector<uint8_t>{0x00, 0x01}, 2, std::vector<uint8_t>{1, 2, 3}, rng);
  REQUIRE(shares.ok());
  CHECK((*shares)[0].y == std::vector<uint8_t>{0x80, 0x81});
  CHECK((*shares)[1].y == std::vector<uint8_t>{0x1B, 0x1A});
  CHECK((*shares)[2].y == std::vector<uint8_t>{0x9B, 0x9A});
}

TEST_CASE("deterministic generator is pinned") {
  auto rng = make_deterministic(2026);
  std::vector<uint8_t> bytes(16);
  rng->fill(bytes);
  CHECK(hex(bytes) == "15ae982e5911e092d8186d6d94379f48");
}

TEST_CASE("pinned (3,5) split of a 40-byte secret, seed 7") {
  const std::vector<uint8_t> secret = kat_secret(40);
  const std::vector<uint8_t> xs{1, 2, 3, 4, 5};
  auto shares = split(secret, 3, xs, *make_deterministic(7));
  REQUIRE(shares.ok());
  const char* pinned[] = {
      "12f6cfda39de7522df10cba0d1df4aeefba484135f76be3269e357fed0373bca1a6eadfdc1f7d775",
      "8ae67a5079a75062ad47628697392114dbd138a84e7acc2109d20913bd17663cc66ed17af827b3d7",
      "991ca2a86d41660e2b33c65cc376f05c91c97b69cce481ed692541c7586016a0bd6c0b05b448c70c",
      "8ed7f8946e2682eb0b2316ce7f05f851b009dd87e6352f30244f1d46413c08bd6b700471fe624e21",
      "9d2d206c7ac0b4878d57b2142b4a2919fa119e4664ab62fc44b85592a44b78211072de0eb20d3afa",
  };
  for (size_t i = 0; i < xs.size(); ++i) CHECK(hex((*shares)[i].y) == pinned[i]);
  CHECK(*shares == reference_split(secret, 3, xs, 7));
}

TEST_CASE("multi-chunk split matches the reference evaluator, and its digest is pinned") {
  const std::vector<uint8_t> secret = kat_secret(3 * split_chunk_bytes(5) + 77);
  const std::vector<uint8_t> xs{7, 1, 255, 128, 33, 2, 9, 100, 54};
  auto shares = split(secret, 5, xs, *make_deterministic(9));
  REQUIRE(shares.ok());
  CHECK(*shares == reference_split(secret, 5, xs, 9));
  uint32_t digest = 0;
  for (const Share& s : *shares) digest = crc32c(s.y, digest);
  char text[9];
  std::snprintf(text, sizeof text, "%08x", digest);
  CHECK(std::string(text) == "b5f1cd9a");
}

TEST_CASE("pinned share encoding") {
  const std::vector<uint8_t> y{0xDE, 0xAD, 0xBE, 0xEF};
  CHECK(hex(encode_share(ShareView(3, y), 2)) == "01030204000000deadbeef62df8110");
}

TEST_CASE("CRC32C check values (RFC 3720 appendix B.4 and the usual '123456789')") {
  const std::string digits = "123456789";
  CHECK(crc32c(std::span(reinterpret_cast<const uint8_t*>(digits.data()), digits.size())) == 0xE3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF), ascending(32);
  for (size_t i = 0; i < 32; ++i) ascending[i] = static_cast<uint8_t>(i);
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  CHECK(crc32c(ascending) == 0x46DD794Eu);
  // Chaining.
  CHECK(crc32c(std::span(ascending).subspan(10), crc32c(std::span(ascending).first(10))) == 0x46DD794Eu);
}

}  // namespace
}  // namespace etsecd::shamir
