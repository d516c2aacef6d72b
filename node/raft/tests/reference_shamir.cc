#include "tests/reference_shamir.h"

namespace etsecd::raft::testing {

namespace {

uint8_t slow_mul(uint8_t a, uint8_t b) {
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

// Full multiplication and inverse tables, built once from the bitwise definition: the simulator
// combines millions of shares, and speed here only matters for test run time.
struct Tables {
  uint8_t mul[256][256];
  uint8_t inv[256];
  uint32_t crc[256];
  Tables() {
    for (int a = 0; a < 256; ++a)
      for (int b = 0; b < 256; ++b) mul[a][b] = slow_mul(static_cast<uint8_t>(a), static_cast<uint8_t>(b));
    inv[0] = 0;
    for (int a = 1; a < 256; ++a)
      for (int b = 1; b < 256; ++b)
        if (mul[a][b] == 1) inv[a] = static_cast<uint8_t>(b);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      crc[i] = c;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint8_t gf_mul(uint8_t a, uint8_t b) { return tables().mul[a][b]; }

uint8_t gf_inv(uint8_t a) { return tables().inv[a]; }

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
    const uint8_t* row = tables().mul[gf_mul(num, gf_inv(den))];
    for (size_t j = 0; j < out.size(); ++j) out[j] ^= row[shares[i].y[j]];
  }
  return out;
}

uint32_t ref_crc32c(std::span<const uint8_t> bytes) {
  const Tables& t = tables();
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : bytes) crc = (crc >> 8) ^ t.crc[(crc ^ b) & 0xFFu];
  return crc ^ 0xFFFFFFFFu;
}

Bytes ref_encode(const RefShare& share, unsigned k) {
  Bytes out{1, share.x, static_cast<uint8_t>(k)};
  const uint32_t n = static_cast<uint32_t>(share.y.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  out.insert(out.end(), share.y.begin(), share.y.end());
  const uint32_t crc = ref_crc32c(out);  // header and y
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
  if (crc != ref_crc32c(b.first(7 + n))) return std::nullopt;
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
