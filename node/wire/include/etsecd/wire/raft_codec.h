#pragma once
// Byte encodings of the Raft core's types: messages for the peer transport, entries and hard state for
// the RocksDB log. Hand-written (varints, length-prefixed bytes) so the core stays free of protobuf and
// the decoders can be fuzzed directly. Every decoder bounds-checks and rejects trailing bytes.

#include <cstdint>
#include <span>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"

namespace etsecd::wire {

inline constexpr uint8_t kRaftCodecVersion = 1;

std::string encode_message(const raft::Message& message);
// Errors: wire.truncated, wire.bad_version, wire.bad_type, wire.too_large, wire.trailing_bytes.
Result<raft::Message> decode_message(std::span<const uint8_t> bytes);

std::string encode_entry(const raft::Entry& entry);
Result<raft::Entry> decode_entry(std::span<const uint8_t> bytes);

std::string encode_hard_state(const raft::HardState& state);
Result<raft::HardState> decode_hard_state(std::span<const uint8_t> bytes);

std::string encode_membership(const raft::Membership& membership);
Result<raft::Membership> decode_membership(std::span<const uint8_t> bytes);

inline std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace etsecd::wire
