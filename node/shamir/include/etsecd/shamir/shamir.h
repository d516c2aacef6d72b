#pragma once
// (k, n) Shamir secret sharing over GF(2^8), byte-wise: byte j of a secret is the constant term of its
// own random polynomial of degree k-1, and the share at x holds that polynomial's value at x for every j.
// All arithmetic on secret-dependent data is constant-time (no secret-dependent branches or table
// indexes). x coordinates and k are public.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/shamir/random.h"

namespace etsecd::shamir {

inline constexpr unsigned kMinThreshold = 2;
inline constexpr unsigned kMaxShares = 255;

// One member's share of one secret: its x coordinate and one byte per secret byte.
struct Share {
  uint8_t x = 0;
  std::vector<uint8_t> y;
  friend bool operator==(const Share&, const Share&) = default;
};

// A borrowed share, so callers can combine shares held in their own buffers without copying.
struct ShareView {
  uint8_t x = 0;
  std::span<const uint8_t> y;
  ShareView() = default;
  ShareView(uint8_t x_, std::span<const uint8_t> y_) : x(x_), y(y_) {}
  ShareView(const Share& s) : x(s.x), y(s.y) {}  // NOLINT(google-explicit-constructor)
};

// Splits `secret` into one share per entry of `xs` (distinct, non-zero), any `k` of which rebuild it.
// Errors: shamir.invalid_threshold (k < 2 or k > xs.size()), shamir.too_many_shares (> 255),
// shamir.zero_x, shamir.duplicate_x.
Result<std::vector<Share>> split(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs,
                                 RandomSource& rng);

// Rebuilds the secret from exactly the first `k` of `shares` (more are ignored; use `consistent` to
// check extra shares). Errors: shamir.invalid_threshold, shamir.too_few_shares, shamir.zero_x,
// shamir.duplicate_x, shamir.length_mismatch.
Result<std::vector<uint8_t>> combine(std::span<const ShareView> shares, unsigned k);

// Computes the share at `new_x` of the polynomial through the first `k` of `shares`: exactly the share a
// split with that polynomial would have given at `new_x`. Used to repair a member that lost its shares
// or to bring a follower up to date without ever rebuilding the value in a new place.
// Errors: as combine, plus shamir.zero_x for new_x == 0.
Result<Share> repair_at(std::span<const ShareView> shares, unsigned k, uint8_t new_x);

// True when all `shares` (at least k+1 for the answer to mean anything) lie on one polynomial of
// degree < k. Errors: as combine.
Result<bool> consistent(std::span<const ShareView> shares, unsigned k);

// The same operations writing into caller buffers, so hot paths (the leader splitting every value, the
// benchmark) allocate nothing. Each output must hold exactly the secret's length and must not overlap
// an input. Errors: as the allocating form, plus shamir.length_mismatch for a wrongly sized output.
Status split_into(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs, RandomSource& rng,
                  std::span<const std::span<uint8_t>> outputs);
Status combine_into(std::span<const ShareView> shares, unsigned k, std::span<uint8_t> secret_out);
Status repair_into(std::span<const ShareView> shares, unsigned k, uint8_t new_x, std::span<uint8_t> y_out);

// split draws its coefficients from `rng` chunk by chunk: the secret is cut into chunks of
// split_chunk_bytes(k) bytes (the last may be shorter) and, for each chunk, one fill() of (k-1) rows of
// the chunk's length gives the coefficients of x^1 .. x^(k-1). This pins the bytes a deterministic
// source produces (known-answer tests) and keeps the coefficients of one chunk in L1 cache.
size_t split_chunk_bytes(unsigned k);

// Proactive refresh: a random polynomial with constant term 0 and degree k-1, evaluated at each
// member's x and added to that member's share. The secret is unchanged and every share changes.
class ZeroPolynomial {
 public:
  // Errors: shamir.invalid_threshold.
  static Result<ZeroPolynomial> random(unsigned k, size_t length, RandomSource& rng);
  // The delta to add to the share at `x` (x != 0).
  Result<std::vector<uint8_t>> delta_at(uint8_t x) const;
  // Adds the delta at share.x to share.y in place. Errors: shamir.zero_x, shamir.length_mismatch.
  Status apply(Share& share) const;

 private:
  ZeroPolynomial(unsigned k, std::vector<uint8_t> coefficients) : k_(k), coeff_(std::move(coefficients)) {}
  unsigned k_ = 0;
  std::vector<uint8_t> coeff_;  // (k-1) rows of `length` bytes: coefficients of x^1 .. x^(k-1)
};

}  // namespace etsecd::shamir
