#pragma once
// The byte format of the Raft stream that members open to each other beside gRPC (docs/architecture.md,
// "Peer transport"). Inside mutual TLS, the opening member sends a preamble (who it is, to whom, and its
// cluster settings fingerprint); the accepting member answers one byte and then reads frames:
//   u32 big-endian payload length | u8 kind | payload
// Pure code, so the decoder (the part a peer's bytes reach) is fuzzed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"

namespace etsecd::transport::stream {

enum class FrameKind : uint8_t {
  kRaft = 1,     // a Raft message (the core's encoding)
  kForward = 2,  // a forwarded client request or its result (the member's encoding)
};

inline constexpr char kAccepted = 'K';

struct Preamble {
  uint64_t from = 0;
  uint64_t to = 0;
  std::string cluster_fingerprint;
};

std::string encode_preamble(const Preamble& p);

// Reads a preamble from the front of `in`. Returns nullopt while more bytes are needed; an error if the
// bytes cannot be a preamble (wrong magic, oversized fingerprint).
Result<std::optional<Preamble>> decode_preamble(std::string_view in, size_t* consumed);

// Appends one frame per payload to `out`.
void append_frames(std::string& out, FrameKind kind, const std::vector<std::string>& payloads);

struct Frame {
  FrameKind kind;
  std::string payload;
};

// Splits a byte stream into frames. Bytes arrive in any pieces; frames come out whole and in order.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload) : max_payload_(max_payload) {}
  // Adds bytes and moves every complete frame into `out`. An error (oversized frame, unknown kind) means
  // the stream is corrupt: the caller closes it.
  Status feed(std::string_view bytes, std::vector<Frame>& out);
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_payload_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace etsecd::transport::stream
