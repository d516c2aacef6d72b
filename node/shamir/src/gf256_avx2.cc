// AVX2 kernels: 32 field elements per register, multiplied by a public constant with two VPSHUFB
// lookups into in-register nibble tables (c*v = lo[v & 15] ^ hi[v >> 4]). The shuffle selects lanes
// inside a register, so the secret bytes index no memory. Four independent 32-byte blocks are in flight
// per iteration to hide the shuffle latency. Built with a function-level target attribute so the rest of
// the binary stays baseline x86-64; gf_backend.cc calls it only when the CPU has AVX2.

#include <immintrin.h>

#include "gf256.h"
#include "gf256_kernels.h"

#define ETSECD_AVX2 __attribute__((target("avx2")))
#define ETSECD_AVX2_INLINE __attribute__((target("avx2"), always_inline)) inline

namespace etsecd::shamir::kernels {
namespace {

struct Tables {
  __m256i lo;
  __m256i hi;
};

ETSECD_AVX2_INLINE Tables load_tables(const gf::NibbleTables& t) {
  return {_mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(t.lo))),
          _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(t.hi)))};
}

ETSECD_AVX2_INLINE __m256i mul(__m256i v, const Tables& t) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i lo = _mm256_and_si256(v, nibble);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi64(v, 4), nibble);
  return _mm256_xor_si256(_mm256_shuffle_epi8(t.lo, lo), _mm256_shuffle_epi8(t.hi, hi));
}

ETSECD_AVX2_INLINE __m256i load(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
ETSECD_AVX2_INLINE void store(uint8_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

ETSECD_AVX2 void eval(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t len) {
  const gf::NibbleTables nibbles = gf::nibble_tables(x);
  const Tables t = load_tables(nibbles);
  const size_t top = count - 1;
  size_t j = 0;
  for (; j + 128 <= len; j += 128) {
    __m256i a0 = load(rows[top] + j), a1 = load(rows[top] + j + 32);
    __m256i a2 = load(rows[top] + j + 64), a3 = load(rows[top] + j + 96);
    for (size_t i = top; i-- > 0;) {
      const uint8_t* r = rows[i] + j;
      a0 = _mm256_xor_si256(mul(a0, t), load(r));
      a1 = _mm256_xor_si256(mul(a1, t), load(r + 32));
      a2 = _mm256_xor_si256(mul(a2, t), load(r + 64));
      a3 = _mm256_xor_si256(mul(a3, t), load(r + 96));
    }
    store(out + j, a0);
    store(out + j + 32, a1);
    store(out + j + 64, a2);
    store(out + j + 96, a3);
  }
  for (; j + 32 <= len; j += 32) {
    __m256i a = load(rows[top] + j);
    for (size_t i = top; i-- > 0;) a = _mm256_xor_si256(mul(a, t), load(rows[i] + j));
    store(out + j, a);
  }
  portable_eval_at(x, rows, count, out, j, len);
}

ETSECD_AVX2 void lin_comb(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out,
                          size_t len) {
  gf::NibbleTables nibbles[256];
  for (size_t i = 0; i < count; ++i) nibbles[i] = gf::nibble_tables(weights[i]);
  size_t j = 0;
  for (; j + 128 <= len; j += 128) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < count; ++i) {
      const Tables t = load_tables(nibbles[i]);
      const uint8_t* r = rows[i] + j;
      a0 = _mm256_xor_si256(a0, mul(load(r), t));
      a1 = _mm256_xor_si256(a1, mul(load(r + 32), t));
      a2 = _mm256_xor_si256(a2, mul(load(r + 64), t));
      a3 = _mm256_xor_si256(a3, mul(load(r + 96), t));
    }
    store(out + j, a0);
    store(out + j + 32, a1);
    store(out + j + 64, a2);
    store(out + j + 96, a3);
  }
  for (; j + 32 <= len; j += 32) {
    __m256i a = _mm256_setzero_si256();
    for (size_t i = 0; i < count; ++i)
      a = _mm256_xor_si256(a, mul(load(rows[i] + j), load_tables(nibbles[i])));
    store(out + j, a);
  }
  portable_lin_comb_at(weights, rows, count, out, j, len);
}

}  // namespace

const Kernels kAvx2{&eval, &lin_comb};

}  // namespace etsecd::shamir::kernels
