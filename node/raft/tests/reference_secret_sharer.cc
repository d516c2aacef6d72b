#include "tests/reference_secret_sharer.h"

#include <set>

#include "tests/reference_shamir.h"

namespace etsecd::raft::testing {

Result<std::vector<Bytes>> ReferenceSecretSharer::split(std::span<const uint8_t> value, unsigned threshold,
                                                        std::span<const uint8_t> xs,
                                                        shamir::RandomSource& rng) {
  if (threshold < 2 || threshold > xs.size()) return make_error("shamir.invalid_threshold", "bad threshold");
  std::set<uint8_t> seen;
  for (uint8_t x : xs) {
    if (x == 0) return make_error("shamir.zero_x", "x must be non-zero");
    if (!seen.insert(x).second) return make_error("shamir.duplicate_x", "duplicate x");
  }
  std::vector<Bytes> out;
  for (const RefShare& s : ref_split(value, threshold, xs, rng)) out.push_back(ref_encode(s, threshold));
  return out;
}

Result<Bytes> ReferenceSecretSharer::repair_at(std::span<const Bytes> encoded, unsigned threshold,
                                               uint8_t new_x) {
  if (new_x == 0) return make_error("shamir.zero_x", "x must be non-zero");
  if (encoded.size() < threshold) return make_error("shamir.too_few_shares", "too few shares");
  std::vector<RefShare> shares;
  std::set<uint8_t> seen;
  for (unsigned i = 0; i < threshold; ++i) {
    auto d = ref_decode(encoded[i]);
    if (!d) return make_error("codec.bad_crc", "malformed share");
    if (!seen.insert(d->share.x).second) return make_error("shamir.duplicate_x", "duplicate x");
    if (!shares.empty() && shares[0].y.size() != d->share.y.size()) {
      return make_error("shamir.length_mismatch", "share lengths differ");
    }
    shares.push_back(d->share);
  }
  return ref_encode(RefShare{new_x, ref_interpolate(shares, new_x)}, threshold);
}

Result<ShareInfo> ReferenceSecretSharer::check(std::span<const uint8_t> encoded) {
  auto d = ref_decode(encoded);
  if (!d) return make_error("codec.bad_crc", "malformed share");
  return ShareInfo{d->share.x, d->k};
}

}  // namespace etsecd::raft::testing
