// Portable kernels: eight field elements per 64-bit word, multiplied by shift-and-xor. The constant's
// bits (public) choose through masks rather than branches, and no vector byte is ever used as an index,
// so this path is constant-time on any CPU. It is the reference the SIMD paths must match byte for byte.

#include <cstring>

#include "gf256_kernels.h"

namespace etsecd::shamir::kernels {
namespace {

constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
constexpr uint64_t kLow1 = 0x0101010101010101ULL;

// Multiplies each of the 8 bytes of `v` by x.
inline uint64_t xtime8(uint64_t v) { return ((v & kLow7) << 1) ^ (((v >> 7) & kLow1) * 0x1B); }

inline uint64_t mul8(uint64_t v, uint8_t c) {
  uint64_t product = 0;
  for (unsigned bit = 0; bit < 8; ++bit) {
    product ^= v & (0ULL - ((c >> bit) & 1u));
    v = xtime8(v);
  }
  return product;
}

inline uint64_t load(const uint8_t* p, size_t n) {
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

inline void store(uint8_t* p, uint64_t w, size_t n) { std::memcpy(p, &w, n); }

void eval(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t len) {
  portable_eval_at(x, rows, count, out, 0, len);
}

void lin_comb(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out, size_t len) {
  portable_lin_comb_at(weights, rows, count, out, 0, len);
}

}  // namespace

void portable_eval_at(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t begin,
                      size_t len) {
  for (size_t j = begin; j < len; j += 8) {
    const size_t n = len - j < 8 ? len - j : 8;
    uint64_t acc = load(rows[count - 1] + j, n);
    for (size_t i = count - 1; i-- > 0;) acc = mul8(acc, x) ^ load(rows[i] + j, n);
    store(out + j, acc, n);
  }
}

void portable_lin_comb_at(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out,
                          size_t begin, size_t len) {
  for (size_t j = begin; j < len; j += 8) {
    const size_t n = len - j < 8 ? len - j : 8;
    uint64_t acc = 0;
    for (size_t i = 0; i < count; ++i) acc ^= mul8(load(rows[i] + j, n), weights[i]);
    store(out + j, acc, n);
  }
}

const Kernels kPortable{&eval, &lin_comb};

}  // namespace etsecd::shamir::kernels
