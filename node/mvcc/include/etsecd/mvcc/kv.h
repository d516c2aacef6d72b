#pragma once
// What the store returns. A KeyValue holds this member's *share* of the value, never the value: the layer
// above gathers k shares for the same (key, mod_revision) and rebuilds the value before answering a client.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace etsecd::mvcc {

struct KeyValue {
  std::string key;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
  std::string share;  // empty for keys_only results
  bool operator==(const KeyValue&) const = default;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;     // keys in the range at that revision, before limit and filters (etcd's rule)
  int64_t revision = 0;  // header revision: the store's current revision
  // Set when sort_target is VALUE: a member cannot order shares, so kvs are all matches in key order,
  // unlimited; the caller rebuilds the values and calls finish_value_sort() (range.h).
  bool value_sort_pending = false;
  // keys_only read: the kvs carry no values to rebuild (a value sort still needs them, see above).
  bool keys_only = false;
};

struct PutResult {
  std::optional<KeyValue> prev_kv;
};

struct DeleteRangeResult {
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

struct OpResult;

struct TxnResult {
  bool succeeded = false;
  std::vector<OpResult> responses;
};

struct OpResult {
  std::variant<RangeResult, PutResult, DeleteRangeResult, TxnResult> result;
};

struct CompactResult {};

// A value compare's guard no longer holds: nothing was applied; re-evaluate and propose again.
struct RetryNeeded {};

struct ApplyResult {
  int64_t revision = 0;  // header revision after the entry
  std::variant<PutResult, DeleteRangeResult, TxnResult, CompactResult, RetryNeeded> result;
};

}  // namespace etsecd::mvcc
