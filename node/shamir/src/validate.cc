#include "validate.h"

#include <array>
#include <string>

namespace etsecd::shamir::validate {
namespace {

Status distinct_nonzero(uint8_t x, std::array<bool, 256>& seen) {
  if (x == 0) return make_error("shamir.zero_x", "x coordinate 0 is reserved for the secret");
  if (seen[x])
    return make_error("shamir.duplicate_x", "x coordinate " + std::to_string(x) + " appears twice");
  seen[x] = true;
  return Status::Ok();
}

Status threshold_at_least_two(unsigned k) {
  if (k < kMinThreshold || k > kMaxShares) {
    return make_error("shamir.invalid_threshold",
                      "threshold k=" + std::to_string(k) + " is outside 2.." + std::to_string(kMaxShares));
  }
  return Status::Ok();
}

}  // namespace

Status split_params(unsigned k, std::span<const uint8_t> xs) {
  if (xs.size() > kMaxShares) {
    return make_error("shamir.too_many_shares",
                      std::to_string(xs.size()) + " shares requested; at most 255 fit GF(2^8)");
  }
  if (Status s = threshold_at_least_two(k); !s) return s;
  if (k > xs.size()) {
    return make_error("shamir.invalid_threshold", "threshold k=" + std::to_string(k) + " exceeds the " +
                                                      std::to_string(xs.size()) + " shares requested");
  }
  std::array<bool, 256> seen{};
  for (uint8_t x : xs) {
    if (Status s = distinct_nonzero(x, seen); !s) return s;
  }
  return Status::Ok();
}

Status shares(std::span<const ShareView> shares, unsigned k, size_t checked) {
  if (Status s = threshold_at_least_two(k); !s) return s;
  if (shares.size() < k) {
    return make_error("shamir.too_few_shares", std::to_string(shares.size()) + " shares given; threshold k=" +
                                                   std::to_string(k) + " needs at least k");
  }
  std::array<bool, 256> seen{};
  for (size_t i = 0; i < checked; ++i) {
    if (Status s = distinct_nonzero(shares[i].x, seen); !s) return s;
    if (shares[i].y.size() != shares[0].y.size()) {
      return make_error("shamir.length_mismatch",
                        "share " + std::to_string(i) + " has " + std::to_string(shares[i].y.size()) +
                            " bytes, share 0 has " + std::to_string(shares[0].y.size()));
    }
  }
  return Status::Ok();
}

Status nonzero_x(uint8_t x) {
  if (x == 0) return make_error("shamir.zero_x", "x coordinate 0 is reserved for the secret");
  return Status::Ok();
}

}  // namespace etsecd::shamir::validate
