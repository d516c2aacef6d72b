// Proactive refresh: adding f(x) with f(0) = 0 to every share re-randomises the shares while the
// constant term, the secret, stays put.

#include <openssl/crypto.h>

#include <array>

#include "etsecd/shamir/shamir.h"
#include "gf256.h"
#include "gf256_kernels.h"
#include "validate.h"

namespace etsecd::shamir {

Result<ZeroPolynomial> ZeroPolynomial::random(unsigned k, size_t length, RandomSource& rng) {
  if (k < kMinThreshold || k > kMaxShares) {
    return make_error("shamir.invalid_threshold",
                      "threshold k=" + std::to_string(k) + " is outside 2.." + std::to_string(kMaxShares));
  }
  std::vector<uint8_t> coefficients((k - 1) * length);
  rng.fill(coefficients);
  return ZeroPolynomial(k, std::move(coefficients));
}

Result<std::vector<uint8_t>> ZeroPolynomial::delta_at(uint8_t x) const {
  if (Status s = validate::nonzero_x(x); !s) return s.error();
  const size_t length = coeff_.size() / (k_ - 1);
  std::array<uint8_t, 256> powers{};
  std::array<const uint8_t*, 256> rows{};
  for (unsigned d = 1; d < k_; ++d) {
    powers[d - 1] = gf::pow(x, d);
    rows[d - 1] = coeff_.data() + (d - 1) * length;
  }
  std::vector<uint8_t> delta(length);
  kernels::active().lin_comb(powers.data(), rows.data(), k_ - 1, delta.data(), length);
  return delta;
}

Status ZeroPolynomial::apply(Share& share) const {
  if (Status s = validate::nonzero_x(share.x); !s) return s;
  const size_t length = coeff_.size() / (k_ - 1);
  if (share.y.size() != length) {
    return make_error("shamir.length_mismatch", "share has " + std::to_string(share.y.size()) +
                                                    " bytes, the refresh polynomial " +
                                                    std::to_string(length));
  }
  // y + sum_{d>=1} c_d x^d is a Horner evaluation with y as the constant row, computed in place.
  std::array<const uint8_t*, 256> rows{};
  rows[0] = share.y.data();
  for (unsigned d = 1; d < k_; ++d) rows[d] = coeff_.data() + (d - 1) * length;
  kernels::active().eval(share.x, rows.data(), k_, share.y.data(), length);
  return Status::Ok();
}

}  // namespace etsecd::shamir
