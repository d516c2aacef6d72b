#pragma once
// The self-describing on-disk/on-wire form of one share:
//   byte 0      format version (currently 1)
//   byte 1      x (1..255)
//   byte 2      k (2..255)
//   bytes 3..6  length of y, little-endian uint32
//   bytes 7..   y
//   last 4      CRC32C of everything before it (header and y), little-endian
// A corrupted, truncated or foreign share is rejected with a clear error rather than combined. The CRC
// covers the header too, so a flipped bit in x or k is caught rather than silently rebuilding garbage.

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
// codec.bad_crc. Checked in the order version, length (truncated when short, bad_length when bytes
// trail), CRC, then x and k, so damage shows up as bad_crc rather than as a misleading field error.
Result<DecodedShare> decode_share(std::span<const uint8_t> bytes);

// Encoded size of a share with `length` bytes of y.
inline constexpr size_t encoded_share_size(size_t length) { return 7 + length + 4; }

// CRC32C (Castagnoli), chainable: crc32c(b, crc32c(a)) == crc32c(a followed by b).
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t seed = 0);

}  // namespace etsecd::shamir
