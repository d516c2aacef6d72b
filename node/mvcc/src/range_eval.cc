#include "range_eval.h"

#include <algorithm>

#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/range_sort.h"

namespace etsecd::mvcc {

Result<int64_t> resolve_read_revision(int64_t requested, int64_t current, int64_t compacted) {
  if (requested <= 0) return current;
  if (requested > current) return make_error(kFutureRevision);
  if (requested < compacted) return make_error(kCompacted);
  return requested;
}

KeyValue to_key_value(const std::string& key, const IndexEntry& entry) {
  return KeyValue{key, entry.create_revision, entry.rev.main, entry.version, entry.lease, {}};
}

namespace {

int64_t sort_field(const KeyValue& kv, SortTarget target) {
  switch (target) {
    case SortTarget::kVersion:
      return kv.version;
    case SortTarget::kCreate:
      return kv.create_revision;
    case SortTarget::kMod:
      return kv.mod_revision;
    case SortTarget::kKey:
    case SortTarget::kValue:
      break;
  }
  return 0;
}

bool passes_filters(const RangeOp& op, const KeyValue& kv) {
  if (op.max_mod_revision != 0 && kv.mod_revision > op.max_mod_revision) return false;
  if (op.min_mod_revision != 0 && kv.mod_revision < op.min_mod_revision) return false;
  if (op.max_create_revision != 0 && kv.create_revision > op.max_create_revision) return false;
  if (op.min_create_revision != 0 && kv.create_revision < op.min_create_revision) return false;
  return true;
}

}  // namespace

Result<RangeResult> evaluate_range(const KeyIndex& index, const RangeOp& op, int64_t read_rev,
                                   int64_t header_revision, const ShareReader& read_share) {
  RangeResult result;
  result.revision = header_revision;
  result.keys_only = op.keys_only;
  KeySpan span = KeySpan::of(op.key, op.range_end);

  struct Item {
    KeyValue kv;
    int64_t sub;  // the backend needs the full revision to find the share
  };
  std::vector<Item> items;
  index.for_each_visible(span, read_rev, [&](const std::string& key, const IndexEntry& entry) {
    ++result.count;
    if (!op.count_only) items.push_back(Item{to_key_value(key, entry), entry.rev.sub});
    return true;
  });
  if (op.count_only) return result;

  std::erase_if(items, [&](const Item& item) { return !passes_filters(op, item.kv); });

  SortOrder order = op.sort_order;
  // etcd: a non-key target without an order means ascending; key order is the natural order already.
  if (op.sort_target != SortTarget::kKey && order == SortOrder::kNone) order = SortOrder::kAscend;
  if (op.sort_target == SortTarget::kValue) {
    result.value_sort_pending = true;  // the limit applies after the caller's sort
  } else if (order != SortOrder::kNone) {
    if (op.sort_target == SortTarget::kKey) {
      if (order == SortOrder::kDescend) std::reverse(items.begin(), items.end());
    } else {
      // Stable on key order, so ties come out deterministically (etcd leaves their order unspecified).
      std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
        int64_t fa = sort_field(a.kv, op.sort_target), fb = sort_field(b.kv, op.sort_target);
        return order == SortOrder::kAscend ? fa < fb : fa > fb;
      });
    }
  }
  if (!result.value_sort_pending && op.limit > 0 && items.size() > static_cast<size_t>(op.limit)) {
    items.resize(static_cast<size_t>(op.limit));
    result.more = true;
  }
  // A value sort needs the values even for keys_only; the caller drops them afterwards.
  bool need_shares = !op.keys_only || result.value_sort_pending;
  result.kvs.reserve(items.size());
  for (Item& item : items) {
    if (need_shares) {
      auto share = read_share(RecordKey{item.kv.key, Revision{item.kv.mod_revision, item.sub}});
      if (!share) return share.error();
      item.kv.share = std::move(share.value());
    }
    result.kvs.push_back(std::move(item.kv));
  }
  return result;
}

Status finish_value_sort(RangeResult& result, std::span<std::string> values, SortOrder order, int64_t limit) {
  if (values.size() != result.kvs.size()) {
    return etsecd::make_error("mvcc.value_sort_mismatch", "value count does not match the range result");
  }
  std::vector<size_t> perm(values.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  bool descend = order == SortOrder::kDescend;
  std::stable_sort(perm.begin(), perm.end(), [&](size_t a, size_t b) {
    return descend ? values[a] > values[b] : values[a] < values[b];
  });
  std::vector<KeyValue> kvs;
  std::vector<std::string> sorted_values;
  kvs.reserve(perm.size());
  sorted_values.reserve(perm.size());
  for (size_t i : perm) {
    kvs.push_back(std::move(result.kvs[i]));
    sorted_values.push_back(std::move(values[i]));
  }
  for (size_t i = 0; i < sorted_values.size(); ++i) values[i] = std::move(sorted_values[i]);
  if (limit > 0 && kvs.size() > static_cast<size_t>(limit)) {
    kvs.resize(static_cast<size_t>(limit));
    result.more = true;
  }
  result.kvs = std::move(kvs);
  result.value_sort_pending = false;
  return Status::Ok();
}

}  // namespace etsecd::mvcc
