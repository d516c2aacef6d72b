#pragma once
// The vector kernels every Shamir operation reduces to. Each multiplies secret byte vectors by PUBLIC
// constants (a share's x, Lagrange weights) only, so a kernel is constant-time when its multiply is:
// no branch and no memory index depends on the vector bytes. One implementation per instruction set;
// gf_backend.cc picks the best one the CPU supports at start-up.

#include <cstddef>
#include <cstdint>

#include "etsecd/shamir/backend.h"

namespace etsecd::shamir::kernels {

// out[j] = sum_i rows[i][j] * x^i for j < len, by Horner's rule (rows[0] is the constant term).
// count >= 1. out may be rows[0] itself (same offsets), never a partial overlap.
using EvalFn = void (*)(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t len);

// out[j] = sum_i weights[i] * rows[i][j] for j < len. count >= 1. out may be rows[0] (same offsets).
using LinCombFn = void (*)(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out,
                           size_t len);

struct Kernels {
  EvalFn eval;
  LinCombFn lin_comb;
};

// Every kernel set. The SIMD ones finish a tail shorter than their vector width with the portable
// kernel at an offset, so they stay byte-identical to it.
extern const Kernels kPortable;
extern const Kernels kSsse3;
extern const Kernels kAvx2;
extern const Kernels kGfniAvx2;

void portable_eval_at(uint8_t x, const uint8_t* const* rows, size_t count, uint8_t* out, size_t begin,
                      size_t len);
void portable_lin_comb_at(const uint8_t* weights, const uint8_t* const* rows, size_t count, uint8_t* out,
                          size_t begin, size_t len);

// The active kernel set (see etsecd/shamir/backend.h).
const Kernels& active();
// The kernel set of one backend, whether or not it is active (tests compare them; the caller must
// check the CPU supports it).
const Kernels& for_backend(GfBackend backend);

}  // namespace etsecd::shamir::kernels
