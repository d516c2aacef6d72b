#pragma once
// Randomness is injected so production draws from a CSPRNG while tests and the simulator are
// reproducible from a seed.

#include <cstdint>
#include <memory>
#include <span>

namespace etsecd::shamir {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Production sources abort the process rather than return weak bytes.
  virtual void fill(std::span<uint8_t> out) = 0;
};

// Cryptographically secure: a fast keystream generator keyed (and periodically re-keyed) from OpenSSL's
// RAND_bytes. Not thread-safe; use one per thread.
std::unique_ptr<RandomSource> make_csprng();

// Deterministic, for tests and the simulator only: the same seed gives the same bytes on every machine.
std::unique_ptr<RandomSource> make_deterministic(uint64_t seed);

}  // namespace etsecd::shamir
