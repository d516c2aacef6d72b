#pragma once
// Scalar GF(2^8) arithmetic modulo the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B), for PUBLIC
// values only: x coordinates, Lagrange weights, powers of x and nibble tables built from them. Even so
// it is branch-free and table-free, so using it on a secret byte by mistake does not open a side channel.

#include <cstdint>

namespace etsecd::shamir::gf {

constexpr uint8_t kReduction = 0x1B;  // x^8 = x^4 + x^3 + x + 1

constexpr uint8_t xtime(uint8_t a) { return static_cast<uint8_t>((a << 1) ^ (kReduction & (0u - (a >> 7)))); }

constexpr uint8_t mul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  for (int bit = 0; bit < 8; ++bit) {
    product ^= static_cast<uint8_t>(a & (0u - ((b >> bit) & 1u)));
    a = xtime(a);
  }
  return product;
}

constexpr uint8_t pow(uint8_t a, unsigned e) {
  uint8_t result = 1;
  for (int bit = 7; bit >= 0; --bit) {
    result = mul(result, result);
    const uint8_t factor = static_cast<uint8_t>(((e >> bit) & 1u) ? a : 1);
    result = mul(result, factor);
  }
  return result;
}

// a^254 = a^-1 for a != 0 (the multiplicative group has order 255); inv(0) = 0.
constexpr uint8_t inv(uint8_t a) { return pow(a, 254); }

// The two 16-entry tables that let PSHUFB multiply by the constant c: c*v = lo[v & 15] ^ hi[v >> 4].
struct NibbleTables {
  alignas(16) uint8_t lo[16];
  alignas(16) uint8_t hi[16];
};

// Multiplication by c is linear over GF(2), so each entry is the XOR of c*2^b over the set bits b of
// its index: 7 doublings and masked XORs instead of 32 full multiplications. Split builds these once
// per share per chunk, so the difference shows on the PSHUFB paths.
inline NibbleTables nibble_tables(uint8_t c) {
  uint8_t doubled[8];
  doubled[0] = c;
  for (int b = 1; b < 8; ++b) doubled[b] = xtime(doubled[b - 1]);
  NibbleTables t{};
  for (unsigned i = 0; i < 16; ++i) {
    uint8_t lo = 0;
    uint8_t hi = 0;
    for (unsigned b = 0; b < 4; ++b) {
      const auto mask = static_cast<uint8_t>(0u - ((i >> b) & 1u));
      lo ^= static_cast<uint8_t>(doubled[b] & mask);
      hi ^= static_cast<uint8_t>(doubled[b + 4] & mask);
    }
    t.lo[i] = lo;
    t.hi[i] = hi;
  }
  return t;
}

static_assert(mul(0x57, 0x83) == 0xC1, "FIPS-197 section 4.2 example");
static_assert(mul(0x57, 0x13) == 0xFE, "FIPS-197 section 4.2.1 example");
static_assert(mul(inv(0x53), 0x53) == 1, "inverse");

}  // namespace etsecd::shamir::gf
