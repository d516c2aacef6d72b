#pragma once
// The leader's half of a value compare (see docs/data-model.md). A client's txn may compare a key's value
// with an operand; members hold only shares, so the leader rebuilds the values in the compare's range,
// decides the compare, and records the verdict and the (key, mod_revision) pairs it looked at. The
// operand itself is never put in the entry.

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/operation.h"

namespace etsecd::mvcc {

struct ObservedValue {
  ObservedKey key;    // key and the mod_revision of its current value
  std::string value;  // rebuilt plaintext, held in memory only
};

// Lists every live key in [key, range_end) (etcd conventions) at the leader's applied state, in key
// order, with its rebuilt value.
using ValueReader =
    std::function<Result<std::vector<ObservedValue>>(std::string_view key, std::string_view range_end)>;

// Number of value compares in op, counting every nested txn in both branches.
size_t value_compare_count(const Operation& op);

// Fills value_outcome and observed of every value compare in op. Order (for operands): a txn's own
// compares, then its success ops, then its failure ops, depth first. operands.size() must equal
// value_compare_count(op). etcd's rule: every key in the range must satisfy the compare; no key = false.
// Values compare as byte strings (memcmp order, shorter prefix first).
Status decide_value_compares(Operation& op, std::span<const std::string> operands, const ValueReader& read);

}  // namespace etsecd::mvcc
