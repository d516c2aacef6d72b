#pragma once
// The Shamir operations the core needs, injected so the core stays pure and testable. Shares cross
// this interface only in their encoded, checksummed form (etsecd/shamir/share_codec.h), so the core
// never handles an unchecked share. make_shamir_secret_sharer() adapts the real codec.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"
#include "etsecd/shamir/random.h"

namespace etsecd::raft {

struct ShareInfo {
  uint8_t x = 0;
  unsigned threshold = 0;
};

class SecretSharer {
 public:
  virtual ~SecretSharer() = default;
  // One encoded share of `value` per entry of `xs`, any `threshold` of which rebuild it.
  virtual Result<std::vector<Bytes>> split(std::span<const uint8_t> value, unsigned threshold,
                                           std::span<const uint8_t> xs, shamir::RandomSource& rng) = 0;
  // The encoded share at `new_x` of the polynomial through the first `threshold` encoded shares.
  virtual Result<Bytes> repair_at(std::span<const Bytes> encoded, unsigned threshold, uint8_t new_x) = 0;
  // Decodes and checks an encoded share (format, checksum).
  virtual Result<ShareInfo> check(std::span<const uint8_t> encoded) = 0;
};

// The production implementation over etsecd_shamir; only available when that library is built.
std::unique_ptr<SecretSharer> make_shamir_secret_sharer();

}  // namespace etsecd::raft
