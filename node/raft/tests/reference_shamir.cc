#include "tests/reference_shamir.h"

namespace etsecd::raft::testing {

uint8_t gf_mul(uint8_t a, uint8_t b) {
  uint8_t p = 0;
  for (int i = 0; i < 8; ++i) {
    if (b & 1) p ^= a;
    const bool carry = a & 0x80;
    a = static_cast<uint8_t>(a << 1);
    if (carry) a ^= 0x1b;  // x^8 + x^4 + x^3 + x + 1
    b >>= 1;
  }
  return p;
}

uint8_t gf_inv(uint8_t a) {
  uint8_t r = 1;
  for (int i = 0; i < 254; ++i) r = gf_mul(r, a);  // a^254 = a^-1
  return r;
}

std::vector<RefShare> ref_split(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs,
                                shamir::RandomSource& rng) {
  std::vector<RefShare> out;
  for (uint8_t x : xs) out.push_back(RefShare{x, Bytes(secret.size())});
  Bytes coeff(k);
  for (size_t j = 0; j < secret.size(); ++j) {
    coeff[0] = secret[j];
    rng.fill(std::span<uint8_t>(coeff).subspan(1));
    for (RefShare& s : out) {
      uint8_t y = 0;  // Horner
      for (unsigned c = k; c-- > 0;) y = static_cast<uint8_t>(gf_mul(y, s.x) ^ coeff[c]);
      s.y[j] = y;
    }
  }
  return out;
}

Bytes ref_interpolate(std::span<const RefShare> shares, uint8_t at) {
  Bytes out(shares.empty() ? 0 : shares[0].y.size());
  for (size_t i = 0; i < shares.size(); ++i) {
    uint8_t num = 1, den = 1;  // Lagrange basis l_i(at); subtraction is xor in GF(2^8)
    for (size_t m = 0; m < shares.size(); ++m) {
      if (m == i) continue;
      num = gf_mul(num, static_cast<uint8_t>(at ^ shares[m].x));
      den = gf_mul(den, static_cast<uint8_t>(shares[i].x ^ shares[m].x));
    }
    const uint8_t l = gf_mul(num, gf_inv(den));
    for (size_t j = 0; j < out.size(); ++j) out[j] ^= gf_mul(l, shares[i].y[j]);
  }
  return out;
}

uint32_t ref_crc32c(std::span<const uint8_t> bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

Bytes ref_encode(const RefShare& share, unsigned k) {
  Bytes out{1, share.x, static_cast<uint8_t>(k)};
  const uint32_t n = static_cast<uint32_t>(share.y.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  out.insert(out.end(), share.y.begin(), share.y.end());
  const uint32_t crc = ref_crc32c(share.y);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  return out;
}

std::optional<RefDecoded> ref_decode(std::span<const uint8_t> b) {
  if (b.size() < 11 || b[0] != 1 || b[1] == 0 || b[2] < 2) return std::nullopt;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(b[3 + i]) << (8 * i);
  if (b.size() != 11 + static_cast<size_t>(n)) return std::nullopt;
  RefDecoded d;
  d.k = b[2];
  d.share.x = b[1];
  d.share.y.assign(b.begin() + 7, b.begin() + 7 + n);
  uint32_t crc = 0;
  for (int i = 0; i < 4; ++i) crc |= static_cast<uint32_t>(b[7 + n + i]) << (8 * i);
  if (crc != ref_crc32c(d.share.y)) return std::nullopt;
  return d;
}

std::optional<Bytes> ref_combine_encoded(std::span<const Bytes> encoded, unsigned k) {
  if (encoded.size() < k) return std::nullopt;
  std::vector<RefShare> shares;
  for (unsigned i = 0; i < k; ++i) {
    auto d = ref_decode(encoded[i]);
    if (!d) return std::nullopt;
    shares.push_back(d->share);
  }
  return ref_interpolate(shares, 0);
}

}  // namespace etsecd::raft::testing
