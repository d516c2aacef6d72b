#pragma once
// The plaintext part of a committed operation: what travels in a raft entry besides the shares. Mirrors
// etcd's PutRequest / DeleteRangeRequest / TxnRequest / CompactionRequest with one change: a put carries
// a value *slot* number instead of the value. Each member receives its own share for every slot of the
// entry; slots are numbered 0.. in the order the puts appear in the request (depth first).
//
// Value compares cannot be evaluated by a member holding one share. The leader rebuilds the values,
// evaluates the compare, and records the outcome together with the (key, mod_revision) pairs it observed
// in the compare's range. At apply, if the range no longer holds exactly those pairs, the txn is not
// applied and the result is RetryNeeded (see docs/data-model.md).

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace etsecd::mvcc {

// Enum values equal etcd's wire values (etcdserverpb) so adapters can cast after a range check.
enum class SortOrder : int32_t { kNone = 0, kAscend = 1, kDescend = 2 };
enum class SortTarget : int32_t { kKey = 0, kVersion = 1, kCreate = 2, kMod = 3, kValue = 4 };
enum class CompareResult : int32_t { kEqual = 0, kGreater = 1, kLess = 2, kNotEqual = 3 };
enum class CompareTarget : int32_t { kVersion = 0, kCreate = 1, kMod = 2, kValue = 3, kLease = 4 };

// Range conventions (etcd's): range_end empty = only `key`; range_end "\0" = every key >= key;
// otherwise [key, range_end), e.g. prefix "ab" -> range_end "ac".
struct RangeOp {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // 0 = no limit
  int64_t revision = 0;  // <= 0 = current
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool keys_only = false;
  bool count_only = false;
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
  bool operator==(const RangeOp&) const = default;
};

struct PutOp {
  std::string key;
  std::optional<uint32_t> value_slot;  // empty exactly when ignore_value
  int64_t lease = 0;
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
  bool operator==(const PutOp&) const = default;
};

struct DeleteRangeOp {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
  bool operator==(const DeleteRangeOp&) const = default;
};

// A key the leader saw in a value compare's range, at the revision it last changed.
struct ObservedKey {
  std::string key;
  int64_t mod_revision = 0;
  bool operator==(const ObservedKey&) const = default;
};

struct Compare {
  CompareResult result = CompareResult::kEqual;
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  std::string range_end;
  int64_t number = 0;  // version, create_revision, mod_revision or lease, by target
  // Only for target kValue: the leader's verdict and the keys it was reached on (sorted by key).
  bool value_outcome = false;
  std::vector<ObservedKey> observed;
  bool operator==(const Compare&) const = default;
};

struct RequestOp;

struct TxnOp {
  std::vector<Compare> compares;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
  bool operator==(const TxnOp&) const = default;
};

struct RequestOp {
  std::variant<RangeOp, PutOp, DeleteRangeOp, TxnOp> op;
  bool operator==(const RequestOp&) const = default;
};

struct CompactOp {
  int64_t revision = 0;
  bool physical = false;
  bool operator==(const CompactOp&) const = default;
};

// One committed client operation (reads outside a txn are not raft entries).
struct Operation {
  std::variant<PutOp, DeleteRangeOp, TxnOp, CompactOp> op;
  bool operator==(const Operation&) const = default;
};

}  // namespace etsecd::mvcc
