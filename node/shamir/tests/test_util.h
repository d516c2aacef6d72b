#pragma once
// Helpers shared by the codec tests: seeded random inputs and a deliberately naive reference for the
// field and for polynomial evaluation, written independently of the production code.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <vector>

#include "etsecd/shamir/backend.h"
#include "etsecd/shamir/shamir.h"

namespace etsecd::shamir::testing {

// Textbook "Russian peasant" multiplication modulo x^8+x^4+x^3+x+1, with branches; fine in a test.
inline uint8_t ref_mul(uint8_t a, uint8_t b) {
  unsigned p = 0;
  unsigned aa = a;
  while (b != 0) {
    if (b & 1) p ^= aa;
    aa <<= 1;
    if (aa & 0x100) aa ^= 0x11B;
    b >>= 1;
  }
  return static_cast<uint8_t>(p);
}

// Sum of coefficients[d] * x^d, evaluated term by term (not Horner), for one byte position.
inline uint8_t ref_eval(std::span<const uint8_t> coefficients, uint8_t x) {
  uint8_t sum = 0;
  uint8_t power = 1;
  for (uint8_t c : coefficients) {
    sum ^= ref_mul(c, power);
    power = ref_mul(power, x);
  }
  return sum;
}

inline std::vector<uint8_t> random_bytes(std::mt19937_64& gen, size_t n) {
  std::vector<uint8_t> out(n);
  for (auto& b : out) b = static_cast<uint8_t>(gen());
  return out;
}

// n distinct non-zero x coordinates in random order.
inline std::vector<uint8_t> random_xs(std::mt19937_64& gen, size_t n) {
  std::vector<uint8_t> all(255);
  std::iota(all.begin(), all.end(), uint8_t{1});
  std::shuffle(all.begin(), all.end(), gen);
  all.resize(n);
  return all;
}

inline std::vector<ShareView> views(const std::vector<Share>& shares) {
  return std::vector<ShareView>(shares.begin(), shares.end());
}

// Restores the automatically chosen backends when a test that forces one ends.
struct BackendGuard {
  GfBackend gf = active_gf_backend();
  CrcBackend crc = active_crc_backend();
  ~BackendGuard() {
    (void)select_gf_backend(gf);
    (void)select_crc_backend(crc);
  }
};

// A RandomSource that replays fixed bytes (cycling), for hand-checkable examples.
class FixedBytes final : public RandomSource {
 public:
  explicit FixedBytes(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = bytes_[next_++ % bytes_.size()];
  }

 private:
  std::vector<uint8_t> bytes_;
  size_t next_ = 0;
};

}  // namespace etsecd::shamir::testing
