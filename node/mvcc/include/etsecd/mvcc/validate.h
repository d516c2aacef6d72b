#pragma once
// Checks a request before it is proposed, with etcd's limits and error messages (errors.h). Everything
// that depends only on the request is refused here; what depends on the store's state (compacted or
// future revision, missing key for ignore_value) is decided deterministically at apply.

#include <cstddef>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/operation.h"

namespace etsecd::mvcc {

struct Limits {
  size_t max_request_bytes = 1536 * 1024;  // etcd --max-request-bytes default (1.5 MiB)
  size_t max_txn_ops = 128;                // etcd --max-txn-ops default
  size_t max_txn_depth = 32;               // etsecd bound on nested txns
};

// The serialized client request, as received: kRequestTooLarge above the limit.
Status check_request_size(size_t serialized_bytes, const Limits& limits = {});

Status validate_range(const RangeOp& range);
// Put/DeleteRange/Txn/Compact: empty keys, invalid ranges, sort options, txn size, nesting and duplicate
// keys (etcd's checkIntervals rule), leases (none exist in etsecd), ignore_value/ignore_lease misuse.
Status validate_operation(const Operation& operation, const Limits& limits = {});

// How many value slots the operation uses: 1 + the largest slot number, 0 if none.
size_t value_slot_count(const Operation& operation);

}  // namespace etsecd::mvcc
