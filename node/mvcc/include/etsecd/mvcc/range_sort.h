#pragma once
// Finishing a VALUE-sorted range above the store. Members hold only shares, so the store cannot order by
// value (RangeResult::value_sort_pending); the node layer rebuilds the values in memory and calls this.
// The values are plaintext held only in the serving process's memory for the response; never stored.

#include <cstdint>
#include <span>
#include <string>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/kv.h"
#include "etsecd/mvcc/operation.h"

namespace etsecd::mvcc {

// values[i] is the rebuilt value of result.kvs[i]. Sorts kvs (and values, in place) by value in the
// given order (kNone means ascending, as etcd does for a non-key target), applies limit and sets `more`.
Status finish_value_sort(RangeResult& result, std::span<std::string> values, SortOrder order, int64_t limit);

}  // namespace etsecd::mvcc
