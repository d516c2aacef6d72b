// A reproducible byte stream for tests and the simulator: xoshiro256** seeded through splitmix64, bytes
// taken little-endian so every machine produces the same sequence. Not for production secrets.

#include "etsecd/shamir/random.h"

namespace etsecd::shamir {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

class Xoshiro256 final : public RandomSource {
 public:
  explicit Xoshiro256(uint64_t seed) {
    for (uint64_t& word : s_) word = splitmix64(seed);
  }

  // The stream does not depend on how it is cut into fill() calls.
  void fill(std::span<uint8_t> out) override {
    for (uint8_t& byte : out) {
      if (left_ == 0) {
        word_ = next();
        left_ = 8;
      }
      byte = static_cast<uint8_t>(word_);
      word_ >>= 8;
      --left_;
    }
  }

 private:
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  uint64_t s_[4];
  uint64_t word_ = 0;
  unsigned left_ = 0;
};

}  // namespace

std::unique_ptr<RandomSource> make_deterministic(uint64_t seed) { return std::make_unique<Xoshiro256>(seed); }

}  // namespace etsecd::shamir
