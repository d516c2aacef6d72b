// libFuzzer target for the paths that see bytes from other members: decode_share on arbitrary input,
// then combine / repair_at / consistent on whatever decodes. The input is a list of frames, each a
// 2-byte little-endian length and that many bytes, preceded by one byte choosing k. Any crash, sanitizer
// report or broken invariant (a combine of decoded shares that disagrees with repair_at at the shares'
// own x) is a finding. The same input is also used as a secret for a split/encode/decode/combine
// round trip.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"

using namespace etsecd::shamir;

namespace {

// The input read as a secret: split, encode, decode and combine a different k-subset must give it back.
void round_trip(std::span<const uint8_t> in) {
  if (in.size() < 2) return;
  const unsigned n = 2 + in[0] % 9;
  const unsigned k = 2 + in[1] % (n - 1);
  const std::span<const uint8_t> secret = in.subspan(2, std::min<size_t>(in.size() - 2, 4096));
  std::vector<uint8_t> xs;
  for (unsigned i = 0; i < n; ++i) xs.push_back(static_cast<uint8_t>(255 - 3 * i));
  auto rng = make_deterministic(in.size());
  auto shares = split(secret, k, xs, *rng);
  if (!shares.ok()) std::abort();
  std::vector<std::vector<uint8_t>> encoded;
  for (const Share& s : *shares) encoded.push_back(encode_share(s, k));
  std::vector<ShareView> views;
  for (size_t i = n - k; i < n; ++i) {
    auto decoded = decode_share(encoded[i]);
    if (!decoded.ok() || decoded->k != k) std::abort();
    views.push_back(decoded->share);
  }
  auto back = combine(views, k);
  if (!back.ok() || !std::equal(back->begin(), back->end(), secret.begin(), secret.end())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  round_trip(std::span<const uint8_t>(data, size));
  std::span<const uint8_t> in(data, size);
  if (in.empty()) return 0;
  const unsigned k = in[0];
  in = in.subspan(1);
  std::vector<ShareView> shares;
  while (in.size() >= 2 && shares.size() < 16) {
    const size_t len = in[0] | size_t{in[1]} << 8;
    in = in.subspan(2);
    if (len > in.size()) break;
    auto decoded = decode_share(in.first(len));
    if (decoded.ok()) shares.push_back(decoded->share);
    in = in.subspan(len);
  }
  // The remaining bytes also act as one raw share, to reach combine's own validation directly.
  if (!in.empty()) shares.emplace_back(in[0], in.subspan(1));

  auto secret = combine(shares, k);
  auto check = consistent(shares, k);
  if (shares.size() > 0) {
    auto repaired = repair_at(shares, k, shares[0].x == 0 ? 1 : shares[0].x);
    if (secret.ok() != repaired.ok() && shares[0].x != 0) std::abort();
    if (repaired.ok() && secret.ok() && shares[0].x != 0) {
      // Evaluating the interpolating polynomial at a given share's own x must give that share back.
      if (!std::equal(repaired->y.begin(), repaired->y.end(), shares[0].y.begin())) std::abort();
    }
  }
  if (check.ok() && !secret.ok()) std::abort();  // consistent validates a superset of combine
  return 0;
}
