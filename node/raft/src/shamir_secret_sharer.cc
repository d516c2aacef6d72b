// Adapts etsecd_shamir (split / repair_at / encode_share / decode_share) to the core's SecretSharer.
#include <utility>

#include "etsecd/raft/secret_sharer.h"
#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"

namespace etsecd::raft {
namespace {

class ShamirSecretSharer final : public SecretSharer {
 public:
  Result<std::vector<Bytes>> split(std::span<const uint8_t> value, unsigned threshold,
                                   std::span<const uint8_t> xs, shamir::RandomSource& rng) override {
    auto shares = shamir::split(value, threshold, xs, rng);
    if (!shares) return shares.error();
    std::vector<Bytes> out;
    out.reserve(shares->size());
    for (const shamir::Share& s : *shares) out.push_back(shamir::encode_share(s, threshold));
    return out;
  }

  Result<Bytes> repair_at(std::span<const Bytes> encoded, unsigned threshold, uint8_t new_x) override {
    std::vector<shamir::ShareView> views;
    views.reserve(encoded.size());
    for (const Bytes& e : encoded) {
      auto d = shamir::decode_share(e);
      if (!d) return d.error();
      views.push_back(d->share);
    }
    auto s = shamir::repair_at(views, threshold, new_x);
    if (!s) return s.error();
    return shamir::encode_share(*s, threshold);
  }

  Result<ShareInfo> check(std::span<const uint8_t> encoded) override {
    auto d = shamir::decode_share(encoded);
    if (!d) return d.error();
    return ShareInfo{d->share.x, d->k};
  }
};

}  // namespace

std::unique_ptr<SecretSharer> make_shamir_secret_sharer() { return std::make_unique<ShamirSecretSharer>(); }

}  // namespace etsecd::raft
