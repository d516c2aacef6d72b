#include "etsecd/shamir/share_codec.h"

#include <algorithm>
#include <string>

namespace etsecd::shamir {
namespace {

constexpr size_t kHeaderBytes = 7;
constexpr size_t kCrcBytes = 4;

void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t get_le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

std::vector<uint8_t> encode_share(const ShareView& share, unsigned k) {
  std::vector<uint8_t> out(encoded_share_size(share.y.size()));
  out[0] = kShareFormatVersion;
  out[1] = share.x;
  out[2] = static_cast<uint8_t>(k);
  put_le32(out.data() + 3, static_cast<uint32_t>(share.y.size()));
  std::copy(share.y.begin(), share.y.end(), out.begin() + kHeaderBytes);
  const size_t body = kHeaderBytes + share.y.size();
  put_le32(out.data() + body, crc32c(std::span<const uint8_t>(out.data(), body)));
  return out;
}

Result<DecodedShare> decode_share(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return make_error("codec.truncated", "empty share encoding");
  if (bytes[0] != kShareFormatVersion) {
    return make_error("codec.bad_version", "share format version " + std::to_string(bytes[0]) +
                                               " is not supported (expected " +
                                               std::to_string(kShareFormatVersion) + ")");
  }
  if (bytes.size() < kHeaderBytes + kCrcBytes) {
    return make_error("codec.truncated", "share encoding of " + std::to_string(bytes.size()) +
                                             " bytes is shorter than its 11-byte frame");
  }
  const uint32_t length = get_le32(bytes.data() + 3);
  const uint64_t expected = uint64_t{kHeaderBytes} + length + kCrcBytes;
  if (bytes.size() < expected) {
    return make_error("codec.truncated", "share encoding has " + std::to_string(bytes.size()) +
                                             " bytes, its header announces " + std::to_string(expected));
  }
  if (bytes.size() > expected) {
    return make_error("codec.bad_length", "share encoding has " + std::to_string(bytes.size() - expected) +
                                              " bytes after the announced length");
  }
  const size_t body = kHeaderBytes + length;
  if (crc32c(bytes.first(body)) != get_le32(bytes.data() + body)) {
    return make_error("codec.bad_crc", "share encoding fails its CRC32C check (corrupted)");
  }
  const uint8_t x = bytes[1];
  const unsigned k = bytes[2];
  if (x == 0) return make_error("codec.zero_x", "share has x coordinate 0, reserved for the secret");
  if (k < kMinThreshold) {
    return make_error("codec.bad_threshold", "share announces threshold k=" + std::to_string(k) + " (< 2)");
  }
  DecodedShare decoded;
  decoded.k = k;
  decoded.share = ShareView(x, bytes.subspan(kHeaderBytes, length));
  return decoded;
}

}  // namespace etsecd::shamir
