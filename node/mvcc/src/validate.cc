#include "etsecd/mvcc/validate.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "etsecd/mvcc/errors.h"
#include "key_span.h"

namespace etsecd::mvcc {
namespace {

bool valid_sort(SortOrder order, SortTarget target) {
  auto o = static_cast<int32_t>(order);
  auto t = static_cast<int32_t>(target);
  return o >= 0 && o <= 2 && t >= 0 && t <= 4;
}

bool valid_compare(const Compare& c) {
  auto r = static_cast<int32_t>(c.result);
  auto t = static_cast<int32_t>(c.target);
  return r >= 0 && r <= 3 && t >= 0 && t <= 4;
}

Status validate_put(const PutOp& put) {
  if (put.key.empty()) return make_error(kEmptyKey);
  if (put.ignore_value && put.value_slot.has_value()) return make_error(kValueProvided);
  if (!put.ignore_value && !put.value_slot.has_value())
    return make_error(kBadEntry, "put without a value slot");
  if (put.ignore_lease && put.lease != 0) return make_error(kLeaseProvided);
  if (put.lease != 0) return make_error(kLeaseNotFound);  // etsecd grants no leases
  return Status::Ok();
}

Status validate_delete(const DeleteRangeOp& del) {
  if (del.key.empty()) return make_error(kEmptyKey);
  if (!valid_range(del.key, del.range_end)) return make_error(kInvalidRange);
  return Status::Ok();
}

Status validate_txn(const TxnOp& txn, const Limits& limits, size_t depth);

Status validate_request_op(const RequestOp& op, const Limits& limits, size_t depth) {
  return std::visit(
      [&](const auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, RangeOp>) return validate_range(o);
        if constexpr (std::is_same_v<T, PutOp>) return validate_put(o);
        if constexpr (std::is_same_v<T, DeleteRangeOp>) return validate_delete(o);
        if constexpr (std::is_same_v<T, TxnOp>) return validate_txn(o, limits, depth + 1);
      },
      op.op);
}

// etcd's checkIntervals: within one branch (including nested txns, whose two branches are alternatives)
// no key may be put twice, and no put may fall in a deleted range. Deletes may overlap each other.
struct BranchWrites {
  std::set<std::string> puts;
  std::vector<KeySpan> dels;
  bool deleted(std::string_view key) const {
    KeySpan point = KeySpan::of(key, {});
    return std::any_of(dels.begin(), dels.end(), [&](const KeySpan& d) { return d.intersects(point); });
  }
};

Status check_intervals(const std::vector<RequestOp>& ops, BranchWrites& out) {
  for (const RequestOp& op : ops) {
    if (const auto* del = std::get_if<DeleteRangeOp>(&op.op))
      out.dels.push_back(KeySpan::of(del->key, del->range_end));
  }
  for (const RequestOp& op : ops) {
    const auto* txn = std::get_if<TxnOp>(&op.op);
    if (txn == nullptr) continue;
    BranchWrites then_writes, else_writes;
    if (Status s = check_intervals(txn->success, then_writes); !s) return s;
    if (Status s = check_intervals(txn->failure, else_writes); !s) return s;
    for (const std::string& k : then_writes.puts) {
      if (out.puts.contains(k) || out.deleted(k)) return make_error(kDuplicateKey);
      out.puts.insert(k);
    }
    for (const std::string& k : else_writes.puts) {
      // The same key in both alternatives is fine: only one of them runs.
      if (out.puts.contains(k) && !then_writes.puts.contains(k)) return make_error(kDuplicateKey);
      if (out.deleted(k)) return make_error(kDuplicateKey);
      out.puts.insert(k);
    }
    out.dels.insert(out.dels.end(), then_writes.dels.begin(), then_writes.dels.end());
    out.dels.insert(out.dels.end(), else_writes.dels.begin(), else_writes.dels.end());
  }
  for (const RequestOp& op : ops) {
    const auto* put = std::get_if<PutOp>(&op.op);
    if (put == nullptr) continue;
    if (out.puts.contains(put->key) || out.deleted(put->key)) return make_error(kDuplicateKey);
    out.puts.insert(put->key);
  }
  return Status::Ok();
}

Status validate_txn(const TxnOp& txn, const Limits& limits, size_t depth) {
  if (depth > limits.max_txn_depth) return make_error(kTxnTooDeep);
  if (txn.compares.size() > limits.max_txn_ops || txn.success.size() > limits.max_txn_ops ||
      txn.failure.size() > limits.max_txn_ops) {
    return make_error(kTooManyOps);
  }
  for (const Compare& c : txn.compares) {
    if (c.key.empty()) return make_error(kEmptyKey);
    if (!valid_compare(c)) return make_error(kInvalidCompare);
    if (!valid_range(c.key, c.range_end)) return make_error(kInvalidRange);
  }
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const RequestOp& op : *branch) {
      if (Status s = validate_request_op(op, limits, depth); !s) return s;
    }
  }
  if (depth == 1) {  // the interval rule looks into nested txns itself
    BranchWrites success_writes, failure_writes;
    if (Status s = check_intervals(txn.success, success_writes); !s) return s;
    if (Status s = check_intervals(txn.failure, failure_writes); !s) return s;
  }
  return Status::Ok();
}

void count_slots(const std::vector<RequestOp>& ops, size_t& n);

void count_slot(const PutOp& put, size_t& n) {
  if (put.value_slot) n = std::max(n, static_cast<size_t>(*put.value_slot) + 1);
}

void count_slots(const std::vector<RequestOp>& ops, size_t& n) {
  for (const RequestOp& op : ops) {
    if (const auto* put = std::get_if<PutOp>(&op.op)) count_slot(*put, n);
    if (const auto* txn = std::get_if<TxnOp>(&op.op)) {
      count_slots(txn->success, n);
      count_slots(txn->failure, n);
    }
  }
}

}  // namespace

Status check_request_size(size_t serialized_bytes, const Limits& limits) {
  if (serialized_bytes > limits.max_request_bytes) return make_error(kRequestTooLarge);
  return Status::Ok();
}

Status validate_range(const RangeOp& range) {
  if (range.key.empty()) return make_error(kEmptyKey);
  if (!valid_range(range.key, range.range_end)) return make_error(kInvalidRange);
  if (!valid_sort(range.sort_order, range.sort_target)) return make_error(kInvalidSortOption);
  return Status::Ok();
}

Status validate_operation(const Operation& operation, const Limits& limits) {
  return std::visit(
      [&](const auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, PutOp>) return validate_put(o);
        if constexpr (std::is_same_v<T, DeleteRangeOp>) return validate_delete(o);
        if constexpr (std::is_same_v<T, TxnOp>) return validate_txn(o, limits, 1);
        if constexpr (std::is_same_v<T, CompactOp>) return Status::Ok();
      },
      operation.op);
}

size_t value_slot_count(const Operation& operation) {
  size_t n = 0;
  if (const auto* put = std::get_if<PutOp>(&operation.op)) count_slot(*put, n);
  if (const auto* txn = std::get_if<TxnOp>(&operation.op)) {
    count_slots(txn->success, n);
    count_slots(txn->failure, n);
  }
  return n;
}

}  // namespace etsecd::mvcc
