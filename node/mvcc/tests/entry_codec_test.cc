#include "etsecd/mvcc/entry_codec.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include "etsecd/mvcc/errors.h"

using namespace etsecd::mvcc;

namespace {

Operation sample_txn() {
  Compare version;
  version.key = "k";
  version.target = CompareTarget::kVersion;
  version.result = CompareResult::kGreater;
  version.number = -3;
  Compare value;
  value.key = "v";
  value.range_end = std::string(1, '\0');
  value.target = CompareTarget::kValue;
  value.result = CompareResult::kNotEqual;
  value.value_outcome = true;
  value.observed = {ObservedKey{"v", 7}, ObservedKey{"w", 1LL << 40}};
  RangeOp range;
  range.key = std::string("\x00\xff", 2);
  range.range_end = "z";
  range.limit = 10;
  range.revision = 12;
  range.sort_order = SortOrder::kDescend;
  range.sort_target = SortTarget::kMod;
  range.keys_only = true;
  range.min_mod_revision = 1;
  range.max_create_revision = INT64_MAX;
  PutOp put;
  put.key = "p";
  put.value_slot = 300;
  put.prev_kv = true;
  PutOp keep;
  keep.key = "q";
  keep.ignore_value = true;
  keep.ignore_lease = true;
  TxnOp nested;
  nested.failure = {RequestOp{DeleteRangeOp{"d", "e", true}}};
  TxnOp txn;
  txn.compares = {version, value};
  txn.success = {RequestOp{range}, RequestOp{put}, RequestOp{nested}};
  txn.failure = {RequestOp{keep}};
  return Operation{txn};
}

}  // namespace

TEST_CASE("operations survive encode and decode unchanged") {
  std::vector<Operation> ops{
      Operation{PutOp{"key", 0u, 0, false, false, false}},
      Operation{PutOp{"", std::nullopt, INT64_MIN, true, true, true}},
      Operation{DeleteRangeOp{"a", "b", true}},
      Operation{CompactOp{INT64_MAX, true}},
      Operation{CompactOp{-1, false}},
      sample_txn(),
  };
  for (const Operation& op : ops) {
    std::string bytes = encode_operation(op);
    CHECK(static_cast<uint8_t>(bytes[0]) == kEntryFormatVersion);
    auto decoded = decode_operation(bytes);
    REQUIRE(decoded.ok());
    CHECK(decoded.value() == op);
  }
}

TEST_CASE("every truncation and any trailing byte is refused") {
  std::string bytes = encode_operation(sample_txn());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_operation(std::string_view(bytes).substr(0, n));
    REQUIRE_FALSE(r.ok());
    CHECK(is(r.error(), kBadEntry));
  }
  CHECK_FALSE(decode_operation(bytes + '\0').ok());
}

TEST_CASE("unknown versions, tags, enum values, flags and non-minimal varints are refused") {
  std::string put = encode_operation(Operation{PutOp{"k", 1u, 0, false, false, false}});
  std::string bad_version = put;
  bad_version[0] = 2;
  CHECK_FALSE(decode_operation(bad_version).ok());
  std::string bad_tag = put;
  bad_tag[1] = 9;
  CHECK_FALSE(decode_operation(bad_tag).ok());
  std::string bad_flags = put;
  bad_flags[4] = 0x10;  // version, tag, len, 'k', flags
  CHECK_FALSE(decode_operation(bad_flags).ok());
  // Compact with revision 0 written as the two-byte varint 0x80 0x00.
  CHECK_FALSE(decode_operation(std::string("\x01\x04\x80\x00\x00", 5)).ok());
  CHECK(decode_operation(std::string("\x01\x04\x00\x00", 4)).ok());
  // A string length far beyond the input.
  CHECK_FALSE(decode_operation(std::string("\x01\x01\xff\xff\xff\xff\x0f", 7)).ok());
}

TEST_CASE("nesting deeper than the codec bound is refused without exhausting the stack") {
  std::string bytes("\x01\x03", 2);
  for (size_t i = 0; i < 10000; ++i) bytes += std::string("\x00\x01\x04", 3);  // 0 compares, 1 op: txn
  CHECK_FALSE(decode_operation(bytes).ok());
}

TEST_CASE("the committed fuzz seeds are valid entries in today's format") {
  int seen = 0;
  for (const auto& file : std::filesystem::directory_iterator(ETSECD_ENTRY_SEEDS)) {
    CAPTURE(file.path().string());
    std::string bytes;
    FILE* f = std::fopen(file.path().c_str(), "rb");
    REQUIRE(f != nullptr);
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
    std::fclose(f);
    auto op = decode_operation(bytes);
    REQUIRE_MESSAGE(op.ok(), (op.ok() ? "" : op.error().message));
    CHECK(encode_operation(op.value()) == bytes);
    ++seen;
  }
  CHECK(seen >= 6);
}
