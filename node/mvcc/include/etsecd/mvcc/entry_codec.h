#pragma once
// The binary form of an Operation inside a raft entry (the plaintext metadata; shares travel separately,
// one set per member). Hand-written rather than protobuf so the pure raft core and the sanitizer/fuzz
// builds need no protobuf, and so that one byte sequence has exactly one meaning:
//   - byte 0 is the format version (kEntryFormatVersion);
//   - integers are LEB128 varints (signed ones zigzag), minimal length only;
//   - strings are a varint length and the bytes;
//   - enums and flag bytes must hold known values; nothing may follow the operation.
// decode_operation(encode_operation(op)) == op, and any bytes that decode re-encode to themselves.
// Layout per operation is documented next to the encoder (src/entry_codec.cc).

#include <cstdint>
#include <string>
#include <string_view>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/operation.h"

namespace etsecd::mvcc {

inline constexpr uint8_t kEntryFormatVersion = 1;
inline constexpr size_t kMaxEncodedTxnDepth = 64;

std::string encode_operation(const Operation& op);
// Errors: kBadEntry with a detail naming what is wrong (never echoing key bytes).
Result<Operation> decode_operation(std::string_view bytes);

}  // namespace etsecd::mvcc
