// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), chainable: crc32c(b, crc32c(a)) == crc32c(a+b).
// The SSE4.2 CRC32 instruction does 8 bytes per step; the portable path is a bitwise loop with masks
// instead of a lookup table, so share bytes never become memory indexes on either path.

#include <nmmintrin.h>

#include <atomic>
#include <cstring>

#include "cpu_features.h"
#include "etsecd/shamir/backend.h"
#include "etsecd/shamir/share_codec.h"

namespace etsecd::shamir {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;

uint32_t update_portable(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (kPolynomial & (0u - (crc & 1u)));
  }
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t update_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

std::atomic<CrcBackend>& active_slot() {
  static std::atomic<CrcBackend> slot{cpu::has_sse42() ? CrcBackend::kSse42 : CrcBackend::kPortable};
  return slot;
}

}  // namespace

const char* name(CrcBackend backend) { return backend == CrcBackend::kSse42 ? "sse4.2" : "portable"; }

bool supported(CrcBackend backend) { return backend == CrcBackend::kPortable || cpu::has_sse42(); }

CrcBackend active_crc_backend() { return active_slot().load(std::memory_order_relaxed); }

Status select_crc_backend(CrcBackend backend) {
  if (!supported(backend)) {
    return make_error("shamir.unsupported_backend",
                      std::string("this CPU cannot run the ") + name(backend) + " CRC32C backend");
  }
  active_slot().store(backend, std::memory_order_relaxed);
  return Status::Ok();
}

uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t seed) {
  const uint32_t state = ~seed;
  const uint32_t updated = active_crc_backend() == CrcBackend::kSse42
                               ? update_sse42(state, bytes.data(), bytes.size())
                               : update_portable(state, bytes.data(), bytes.size());
  return ~updated;
}

}  // namespace etsecd::shamir
