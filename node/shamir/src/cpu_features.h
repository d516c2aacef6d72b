#pragma once
// What the running CPU (and OS, for the AVX register state) supports.

namespace etsecd::shamir::cpu {

// __builtin_cpu_init is idempotent; calling it makes the checks valid even when the first codec call
// happens inside another static initializer, before the runtime's own constructor has run.
inline bool has_ssse3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("ssse3") != 0;
}
inline bool has_sse42() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}
inline bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}
inline bool has_gfni_avx2() { return has_avx2() && __builtin_cpu_supports("gfni") != 0; }

}  // namespace etsecd::shamir::cpu
