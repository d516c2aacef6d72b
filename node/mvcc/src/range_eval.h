#pragma once
// Range evaluation shared by plain reads and ranges inside a write txn.

#include <functional>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/kv.h"
#include "etsecd/mvcc/operation.h"
#include "key_index.h"

namespace etsecd::mvcc {

using ShareReader = std::function<Result<std::string>(const RecordKey&)>;

// etcd's rules for a requested read revision against the store's current and compacted revisions.
// Returns the revision to read at.
Result<int64_t> resolve_read_revision(int64_t requested, int64_t current, int64_t compacted);

KeyValue to_key_value(const std::string& key, const IndexEntry& entry);

// Evaluates op at read_rev (already resolved). header_revision goes into the result.
Result<RangeResult> evaluate_range(const KeyIndex& index, const RangeOp& op, int64_t read_rev,
                                   int64_t header_revision, const ShareReader& read_share);

}  // namespace etsecd::mvcc
