#pragma once
// The self-describing on-disk/on-wire form of one share:
//   byte 0      format version (currently 1)
//   byte 1      x (1..255)
//   byte 2      k (2..255)
//   bytes 3..6  length of y, little-endian uint32
//   bytes 7..   y
//   last 4      CRC32C of y, little-endian
// A corrupted, truncated or foreign share is rejected with a clear error rather than combined.

#include <cstdint>
#include <span>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/shamir/shamir.h"

namespace etsecd::shamir {

inline constexpr uint8_t kShareFormatVersion = 1;

struct DecodedShare {
  unsigned k = 0;
  ShareView share;  // y points into the decoded buffer
};

std::vector<uint8_t> encode_share(const ShareView& share, unsigned k);

// Errors: codec.truncated, codec.bad_version, codec.zero_x, codec.bad_threshold, codec.bad_length,
// codec.bad_crc.
Result<DecodedShare> decode_share(std::span<const uint8_t> bytes);

uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t seed = 0);

}  // namespace etsecd::shamir
