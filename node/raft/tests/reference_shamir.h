#pragma once
// TEST REFERENCE ONLY: a deliberately simple Shamir implementation over GF(2^8) (tables built from the
// bitwise definition, not constant-time) with the same share encoding as etsecd/shamir/share_codec.h
// (version 1: version, x, k, LE32 length, y, then LE32 CRC32C of everything before it).
// It lets the core and the simulator run before the production codec lands, and cross-checks it
// afterwards. Never link this into a binary that handles real values.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "etsecd/raft/types.h"
#include "etsecd/shamir/random.h"

namespace etsecd::raft::testing {

struct RefShare {
  uint8_t x = 0;
  Bytes y;
};

uint8_t gf_mul(uint8_t a, uint8_t b);
uint8_t gf_inv(uint8_t a);

std::vector<RefShare> ref_split(std::span<const uint8_t> secret, unsigned k, std::span<const uint8_t> xs,
                                shamir::RandomSource& rng);
// The polynomial through the k given shares, evaluated at `at` (0 gives the secret).
Bytes ref_interpolate(std::span<const RefShare> shares, uint8_t at);

uint32_t ref_crc32c(std::span<const uint8_t> bytes);
Bytes ref_encode(const RefShare& share, unsigned k);
struct RefDecoded {
  RefShare share;
  unsigned k = 0;
};
std::optional<RefDecoded> ref_decode(std::span<const uint8_t> bytes);

// Rebuilds a value from the first k encoded shares; nullopt if any is malformed.
std::optional<Bytes> ref_combine_encoded(std::span<const Bytes> encoded, unsigned k);

}  // namespace etsecd::raft::testing
