// The scalar field helpers and every kernel against the naive reference multiplication.

#include "gf256.h"

#include <doctest/doctest.h>

#include <array>

#include "gf256_kernels.h"
#include "test_util.h"

namespace etsecd::shamir {
namespace {

using testing::ref_mul;

TEST_CASE("scalar multiply matches the reference on all 65536 pairs") {
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      REQUIRE(gf::mul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)) ==
              ref_mul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)));
    }
  }
}

TEST_CASE("FIPS-197 multiplication examples hold for the reference") {
  // AES specification, section 4.2: {57} * {83} = {c1}, {57} * {13} = {fe}.
  CHECK(ref_mul(0x57, 0x83) == 0xC1);
  CHECK(ref_mul(0x57, 0x13) == 0xFE);
  CHECK(ref_mul(0x80, 0x02) == 0x1B);
}

TEST_CASE("every non-zero element has an inverse") {
  CHECK(gf::inv(0) == 0);
  for (unsigned a = 1; a < 256; ++a)
    CHECK(ref_mul(static_cast<uint8_t>(a), gf::inv(static_cast<uint8_t>(a))) == 1);
}

TEST_CASE("nibble tables reproduce multiplication by their constant") {
  for (unsigned c = 0; c < 256; ++c) {
    const gf::NibbleTables t = gf::nibble_tables(static_cast<uint8_t>(c));
    for (unsigned v = 0; v < 256; ++v) {
      REQUIRE((t.lo[v & 15] ^ t.hi[v >> 4]) == ref_mul(static_cast<uint8_t>(c), static_cast<uint8_t>(v)));
    }
  }
}

TEST_CASE("each kernel multiplies every byte by every constant correctly") {
  std::array<uint8_t, 256 + 7> all{};  // odd length exercises the SIMD tails too
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i * 7 + 3);
  const std::array<const kernels::Kernels*, 4> sets{&kernels::kPortable, &kernels::kSsse3, &kernels::kAvx2,
                                                    &kernels::kGfniAvx2};
  const std::array<GfBackend, 4> backends{GfBackend::kPortable, GfBackend::kSsse3, GfBackend::kAvx2,
                                          GfBackend::kGfniAvx2};
  for (size_t s = 0; s < sets.size(); ++s) {
    if (!supported(backends[s])) continue;
    CAPTURE(name(backends[s]));
    std::array<uint8_t, all.size()> out{};
    for (unsigned c = 0; c < 256; ++c) {
      const uint8_t weight = static_cast<uint8_t>(c);
      const uint8_t* row = all.data();
      sets[s]->lin_comb(&weight, &row, 1, out.data(), out.size());
      for (size_t i = 0; i < all.size(); ++i) REQUIRE(out[i] == ref_mul(weight, all[i]));
      // eval with rows (0, all): all * x.
      const std::array<uint8_t, all.size()> zero{};
      const std::array<const uint8_t*, 2> rows{zero.data(), all.data()};
      sets[s]->eval(weight, rows.data(), 2, out.data(), out.size());
      for (size_t i = 0; i < all.size(); ++i) REQUIRE(out[i] == ref_mul(weight, all[i]));
    }
  }
}

}  // namespace
}  // namespace etsecd::shamir
