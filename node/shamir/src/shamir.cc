// Split, combine, repair and consistency check. Everything secret-dependent happens in the vector
// kernels (gf256_kernels.h), which multiply only by public constants: powers of a share's x and
// Lagrange weights computed from the public xs.

#include "etsecd/shamir/shamir.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "gf256.h"
#include "gf256_kernels.h"
#include "validate.h"

namespace etsecd::shamir {
namespace {

// The coefficients of one chunk live on the stack: (k-1) * chunk <= kCoefficientBudget bytes.
constexpr size_t kCoefficientBudget = 16 * 1024;
constexpr size_t kChunkAlign = 128;  // one unrolled SIMD iteration

// Lagrange weights for evaluating at `at` the polynomial through (xs[i], y_i), i < k:
// w_i = prod_{j != i} (at - x_j) / (x_i - x_j); subtraction is XOR in GF(2^8). The k denominators are
// inverted together with one field inversion (Montgomery's trick), which keeps small values cheap.
void lagrange_weights(std::span<const ShareView> shares, unsigned k, uint8_t at, uint8_t* weights) {
  std::array<uint8_t, 256> numerator;
  std::array<uint8_t, 256> denominator;
  std::array<uint8_t, 256> prefix;  // prefix[i] = denominator[0] * ... * denominator[i-1]
  uint8_t running = 1;
  for (unsigned i = 0; i < k; ++i) {
    uint8_t num = 1;
    uint8_t den = 1;
    for (unsigned j = 0; j < k; ++j) {
      if (j == i) continue;
      num = gf::mul(num, static_cast<uint8_t>(at ^ shares[j].x));
      den = gf::mul(den, static_cast<uint8_t>(shares[i].x ^ shares[j].x));
    }
    numerator[i] = num;
    denominator[i] = den;
    prefix[i] = running;
    running = gf::mul(running, den);
  }
  uint8_t inverse_of_rest = gf::inv(running);  // 1 / (denominator[0] * ... * denominator[i])
  for (unsigned i = k; i-- > 0;) {
    weights[i] = gf::mul(numerator[i], gf::mul(inverse_of_rest, prefix[i]));
    inverse_of_rest = gf::mul(inverse_of_rest, denominator[i]);
  }
}

// A member combines with the same set of peers value after value, so the last weights computed on this
// thread are kept; for small values they would otherwise cost more than the interpolation itself.
// The key (the xs and the point) is public, so looking it up leaks nothing.
const uint8_t* weights_for(std::span<const ShareView> shares, unsigned k, uint8_t at) {
  struct Cache {
    unsigned k = 0;
    uint8_t at = 0;
    std::array<uint8_t, 256> xs;
    std::array<uint8_t, 256> weights;
  };
  thread_local Cache cache;
  bool hit = cache.k == k && cache.at == at;
  for (unsigned i = 0; hit && i < k; ++i) hit = cache.xs[i] == shares[i].x;
  if (!hit) {
    lagrange_weights(shares, k, at, cache.weights.data());
    for (unsigned i = 0; i < k; ++i) cache.xs[i] = shares[i].x;
    cache.k = k;
    cache.at = at;
  }
  return cache.weights.data();
}

// Evaluates the polynomial through the first k shares at `at` into out (out.size() == share length).
void interpolate(std::span<const ShareView> shares, unsigned k, uint8_t at, uint8_t* out) {
  std::array<const uint8_t*, 256> rows;
  const uint8_t* weights = weights_for(shares, k, at);
  for (unsigned i = 0; i < k; ++i) rows[i] = shares[i].y.data();
  kernels::active().lin_comb(weights, rows.data(), k, out, shares[0].y.size());
}

void split_unchecked(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs,
                     RandomSource& rng, uint8_t* const* outputs) {
  alignas(64) std::array<uint8_t, kCoefficientBudget> coefficients;
  std::array<const uint8_t*, 256> rows;
  const kernels::Kernels& kern = kernels::active();
  const size_t chunk = split_chunk_bytes(k);
  for (size_t offset = 0; offset < secret.size(); offset += chunk) {
    const size_t m = std::min(chunk, secret.size() - offset);
    rng.fill(std::span<uint8_t>(coefficients.data(), (k - 1) * m));
    rows[0] = secret.data() + offset;
    for (unsigned d = 1; d < k; ++d) rows[d] = coefficients.data() + (d - 1) * m;
    for (size_t i = 0; i < xs.size(); ++i) kern.eval(xs[i], rows.data(), k, outputs[i] + offset, m);
  }
  OPENSSL_cleanse(coefficients.data(), std::min(secret.size(), chunk) * (k - 1));
}

}  // namespace

size_t split_chunk_bytes(unsigned k) {
  const size_t per_row = kCoefficientBudget / (k > kMinThreshold ? k - 1 : 1);
  return per_row >= kChunkAlign ? per_row / kChunkAlign * kChunkAlign : per_row;
}

Result<std::vector<Share>> split(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs,
                                 RandomSource& rng) {
  if (Status s = validate::split_params(k, xs); !s) return s.error();
  std::vector<Share> shares(xs.size());
  std::array<uint8_t*, 256> outputs;
  for (size_t i = 0; i < xs.size(); ++i) {
    shares[i].x = xs[i];
    shares[i].y.resize(secret.size());
    outputs[i] = shares[i].y.data();
  }
  split_unchecked(secret, k, xs, rng, outputs.data());
  return shares;
}

Status split_into(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs, RandomSource& rng,
                  std::span<const std::span<uint8_t>> outputs) {
  if (Status s = validate::split_params(k, xs); !s) return s;
  if (outputs.size() != xs.size()) {
    return make_error("shamir.length_mismatch", "split_into needs one output buffer per x coordinate");
  }
  std::array<uint8_t*, 256> out;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (outputs[i].size() != secret.size()) {
      return make_error("shamir.length_mismatch",
                        "output buffer " + std::to_string(i) + " does not have the secret's length");
    }
    out[i] = outputs[i].data();
  }
  split_unchecked(secret, k, xs, rng, out.data());
  return Status::Ok();
}

Result<std::vector<uint8_t>> combine(std::span<const ShareView> shares, unsigned k) {
  if (Status s = validate::shares(shares, k, k); !s) return s.error();
  std::vector<uint8_t> secret(shares[0].y.size());
  interpolate(shares, k, 0, secret.data());
  return secret;
}

Status combine_into(std::span<const ShareView> shares, unsigned k, std::span<uint8_t> secret_out) {
  if (Status s = validate::shares(shares, k, k); !s) return s;
  if (secret_out.size() != shares[0].y.size()) {
    return make_error("shamir.length_mismatch", "output buffer does not have the shares' length");
  }
  interpolate(shares, k, 0, secret_out.data());
  return Status::Ok();
}

Result<Share> repair_at(std::span<const ShareView> shares, unsigned k, uint8_t new_x) {
  if (Status s = validate::shares(shares, k, k); !s) return s.error();
  if (Status s = validate::nonzero_x(new_x); !s) return s.error();
  Share share;
  share.x = new_x;
  share.y.resize(shares[0].y.size());
  interpolate(shares, k, new_x, share.y.data());
  return share;
}

Status repair_into(std::span<const ShareView> shares, unsigned k, uint8_t new_x, std::span<uint8_t> y_out) {
  if (Status s = validate::shares(shares, k, k); !s) return s;
  if (Status s = validate::nonzero_x(new_x); !s) return s;
  if (y_out.size() != shares[0].y.size()) {
    return make_error("shamir.length_mismatch", "output buffer does not have the shares' length");
  }
  interpolate(shares, k, new_x, y_out.data());
  return Status::Ok();
}

Result<bool> consistent(std::span<const ShareView> shares, unsigned k) {
  if (Status s = validate::shares(shares, k, shares.size()); !s) return s.error();
  std::array<uint8_t, 256> weights;
  std::array<const uint8_t*, 256> rows;
  alignas(64) std::array<uint8_t, 4096> expected;
  const size_t length = shares[0].y.size();
  uint8_t difference = 0;  // accumulated without early exit: where a share deviates stays private
  for (size_t extra = k; extra < shares.size(); ++extra) {
    lagrange_weights(shares, k, shares[extra].x, weights.data());
    for (size_t offset = 0; offset < length; offset += expected.size()) {
      const size_t m = std::min(expected.size(), length - offset);
      for (unsigned i = 0; i < k; ++i) rows[i] = shares[i].y.data() + offset;
      kernels::active().lin_comb(weights.data(), rows.data(), k, expected.data(), m);
      for (size_t j = 0; j < m; ++j)
        difference |= static_cast<uint8_t>(expected[j] ^ shares[extra].y[offset + j]);
    }
  }
  OPENSSL_cleanse(expected.data(), std::min(length, expected.size()));
  return difference == 0;
}

}  // namespace etsecd::shamir
