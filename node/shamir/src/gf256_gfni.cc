// GFNI kernels: VGF2P8MULB multiplies 32 pairs of field elements modulo 0x11B (the AES polynomial, the
// field etsecd uses) in one fixed-latency instruction that touches no memory. gf_backend.cc
// calls these only when the CPU has both GFNI and AVX2 (VEX-encoded 256-bit form).

#include <immintrin.h>

#include "gf256_kernels.h"

#define ETSECD_GFNI __attribute__((target("avx2,gfni")))
#define ETSECD_GFNI_INLINE __attribute__((target("avx2,gfni"), always_inline)) inline

namespace etsecd::shamir::kernels {
namespace {

ETSECD_GFNI_INLINE __m256i load(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
ETSECD_GFNI_INLINE void store(uint8_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}
ETSECD_GFNI_INLINE __m256i mul(__m256i v, __m256i c) { return _mm256_gf2p8mul_epi8(v, c); }
ETSECD_GFNI_INLINE __m256i splat(uint8_t c) { return _mm256_set1_epi8(static_cast<char>(c)); }

ETSECD_GFNI void eval(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t len) {
  const __m256i c = splat(x);
  const size_t top = count - 1;
  size_t j = 0;
  for (; j + 128 <= len; j += 128) {
    __m256i a0 = load(rows[top] + j), a1 = load(rows[top] + j + 32);
    __m256i a2 = load(rows[top] + j + 64), a3 = load(rows[top] + j + 96);
    for (size_t i = top; i-- > 0;) {
      const uint8_t* r = rows[i] + j;
      a0 = _mm256_xor_si256(mul(a0, c), load(r));
      a1 = _mm256_xor_si256(mul(a1, c), load(r + 32));
      a2 = _mm256_xor_si256(mul(a2, c), load(r + 64));
      a3 = _mm256_xor_si256(mul(a3, c), load(r + 96));
    }
    store(out + j, a0);
    store(out + j + 32, a1);
    store(out + j + 64, a2);
    store(out + j + 96, a3);
  }
  for (; j + 32 <= len; j += 32) {
    __m256i a = load(rows[top] + j);
    for (size_t i = top; i-- > 0;) a = _mm256_xor_si256(mul(a, c), load(rows[i] + j));
    store(out + j, a);
  }
  portable_eval_at(x, rows, count, out, j, len);
}

ETSECD_GFNI void lin_comb(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out,
                          size_t len) {
  size_t j = 0;
  for (; j + 128 <= len; j += 128) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < count; ++i) {
      const __m256i c = splat(weights[i]);
      const uint8_t* r = rows[i] + j;
      a0 = _mm256_xor_si256(a0, mul(load(r), c));
      a1 = _mm256_xor_si256(a1, mul(load(r + 32), c));
      a2 = _mm256_xor_si256(a2, mul(load(r + 64), c));
      a3 = _mm256_xor_si256(a3, mul(load(r + 96), c));
    }
    store(out + j, a0);
    store(out + j + 32, a1);
    store(out + j + 64, a2);
    store(out + j + 96, a3);
  }
  for (; j + 32 <= len; j += 32) {
    __m256i a = _mm256_setzero_si256();
    for (size_t i = 0; i < count; ++i) a = _mm256_xor_si256(a, mul(load(rows[i] + j), splat(weights[i])));
    store(out + j, a);
  }
  portable_lin_comb_at(weights, rows, count, out, j, len);
}

}  // namespace

const Kernels kGfniAvx2{&eval, &lin_comb};

}  // namespace etsecd::shamir::kernels
