#pragma once
// Seeded randomness for tests and the simulator (xoshiro256**, seeded by splitmix64): reproducible
// on every machine. Not for production: the node gets a CSPRNG.

#include <cstdint>

#include "etsecd/shamir/random.h"

namespace etsecd::raft::testing {

class TestRandom final : public shamir::RandomSource {
 public:
  explicit TestRandom(uint64_t seed);
  void fill(std::span<uint8_t> out) override;
  uint64_t next();
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0
  bool chance(double p);

 private:
  uint64_t s_[4];
};

}  // namespace etsecd::raft::testing
