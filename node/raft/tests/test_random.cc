#include "tests/test_random.h"

namespace etsecd::raft::testing {
namespace {
uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

TestRandom::TestRandom(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix(seed);
}

uint64_t TestRandom::next() {
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

void TestRandom::fill(std::span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    uint64_t v = next();
    for (int b = 0; b < 8 && i < out.size(); ++b, ++i, v >>= 8) out[i] = static_cast<uint8_t>(v);
  }
}

uint64_t TestRandom::below(uint64_t n) { return next() % n; }

bool TestRandom::chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

}  // namespace etsecd::raft::testing
