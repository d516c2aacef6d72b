// SSSE3 kernels: 16 field elements per register, multiplied by a public constant with two PSHUFB
// lookups into in-register nibble tables (c*v = lo[v & 15] ^ hi[v >> 4]). The shuffle selects lanes
// inside a register, so the secret bytes index no memory. Four independent 16-byte blocks are in flight
// per iteration to hide the shuffle latency. Built with a function-level target attribute so the rest of
// the binary stays baseline x86-64; gf_backend.cc calls it only when the CPU has SSSE3.

#include <immintrin.h>

#include "gf256.h"
#include "gf256_kernels.h"

#define ETSECD_SSSE3 __attribute__((target("ssse3")))
#define ETSECD_SSSE3_INLINE __attribute__((target("ssse3"), always_inline)) inline

namespace etsecd::shamir::kernels {
namespace {

struct Tables {
  __m128i lo;
  __m128i hi;
};

ETSECD_SSSE3_INLINE Tables load_tables(const gf::NibbleTables& t) {
  return {_mm_load_si128(reinterpret_cast<const __m128i*>(t.lo)),
          _mm_load_si128(reinterpret_cast<const __m128i*>(t.hi))};
}

ETSECD_SSSE3_INLINE __m128i mul(__m128i v, const Tables& t) {
  const __m128i nibble = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(v, nibble);
  const __m128i hi = _mm_and_si128(_mm_srli_epi64(v, 4), nibble);
  return _mm_xor_si128(_mm_shuffle_epi8(t.lo, lo), _mm_shuffle_epi8(t.hi, hi));
}

ETSECD_SSSE3_INLINE __m128i load(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
ETSECD_SSSE3_INLINE void store(uint8_t* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }

ETSECD_SSSE3 void eval(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t len) {
  const gf::NibbleTables nibbles = gf::nibble_tables(x);
  const Tables t = load_tables(nibbles);
  const size_t top = count - 1;
  size_t j = 0;
  for (; j + 64 <= len; j += 64) {
    __m128i a0 = load(rows[top] + j), a1 = load(rows[top] + j + 16);
    __m128i a2 = load(rows[top] + j + 32), a3 = load(rows[top] + j + 48);
    for (size_t i = top; i-- > 0;) {
      const uint8_t* r = rows[i] + j;
      a0 = _mm_xor_si128(mul(a0, t), load(r));
      a1 = _mm_xor_si128(mul(a1, t), load(r + 16));
      a2 = _mm_xor_si128(mul(a2, t), load(r + 32));
      a3 = _mm_xor_si128(mul(a3, t), load(r + 48));
    }
    store(out + j, a0);
    store(out + j + 16, a1);
    store(out + j + 32, a2);
    store(out + j + 48, a3);
  }
  for (; j + 16 <= len; j += 16) {
    __m128i a = load(rows[top] + j);
    for (size_t i = top; i-- > 0;) a = _mm_xor_si128(mul(a, t), load(rows[i] + j));
    store(out + j, a);
  }
  portable_eval_at(x, rows, count, out, j, len);
}

ETSECD_SSSE3 void lin_comb(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out,
                           size_t len) {
  gf::NibbleTables nibbles[256];
  for (size_t i = 0; i < count; ++i) nibbles[i] = gf::nibble_tables(weights[i]);
  size_t j = 0;
  for (; j + 64 <= len; j += 64) {
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < count; ++i) {
      const Tables t = load_tables(nibbles[i]);
      const uint8_t* r = rows[i] + j;
      a0 = _mm_xor_si128(a0, mul(load(r), t));
      a1 = _mm_xor_si128(a1, mul(load(r + 16), t));
      a2 = _mm_xor_si128(a2, mul(load(r + 32), t));
      a3 = _mm_xor_si128(a3, mul(load(r + 48), t));
    }
    store(out + j, a0);
    store(out + j + 16, a1);
    store(out + j + 32, a2);
    store(out + j + 48, a3);
  }
  for (; j + 16 <= len; j += 16) {
    __m128i a = _mm_setzero_si128();
    for (size_t i = 0; i < count; ++i) a = _mm_xor_si128(a, mul(load(rows[i] + j), load_tables(nibbles[i])));
    store(out + j, a);
  }
  portable_lin_comb_at(weights, rows, count, out, j, len);
}

}  // namespace

const Kernels kSsse3{&eval, &lin_comb};

}  // namespace etsecd::shamir::kernels
