#pragma once
// TEST REFERENCE ONLY: SecretSharer over reference_shamir.h, for unit tests and the simulator.

#include "etsecd/raft/secret_sharer.h"

namespace etsecd::raft::testing {

class ReferenceSecretSharer final : public SecretSharer {
 public:
  Result<std::vector<Bytes>> split(std::span<const uint8_t> value, unsigned threshold,
                                   std::span<const uint8_t> xs, shamir::RandomSource& rng) override;
  Result<Bytes> repair_at(std::span<const Bytes> encoded, unsigned threshold, uint8_t new_x) override;
  Result<ShareInfo> check(std::span<const uint8_t> encoded) override;
};

}  // namespace etsecd::raft::testing
