// Deterministic application of committed operations (Store::apply). Three phases per entry:
//   1. plan: evaluate txn compares on the state before the entry (value compares by their guard),
//   2. check: refuse, without changing anything, what etcd refuses at apply time,
//   3. execute: add the new revisions to the index and collect one WriteSet,
// then commit the WriteSet (records + applied index + revisions) atomically and publish the new revision.
// Readers never see a half-applied entry: they read at the published revision, and every entry this
// apply adds to the index has a higher main revision until it is published.

#include <cstdint>
#include <map>
#include <mutex>

#include "etsecd/mvcc/entry_codec.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/mvcc/validate.h"
#include "key_index.h"
#include "range_eval.h"

namespace etsecd::mvcc {
namespace {

// Which branch each txn on the execution path takes; nested[i] is the plan of the i-th txn op inside the
// chosen branch.
struct TxnPlan {
  bool succeeded = false;
  std::vector<TxnPlan> nested;
};

enum class Verdict { kTrue, kFalse, kStale };

bool compare_numbers(CompareResult op, int64_t actual, int64_t wanted) {
  switch (op) {
    case CompareResult::kEqual:
      return actual == wanted;
    case CompareResult::kNotEqual:
      return actual != wanted;
    case CompareResult::kGreater:
      return actual > wanted;
    case CompareResult::kLess:
      return actual < wanted;
  }
  return false;
}

int64_t compared_field(CompareTarget target, const IndexEntry& e) {
  switch (target) {
    case CompareTarget::kVersion:
      return e.version;
    case CompareTarget::kCreate:
      return e.create_revision;
    case CompareTarget::kMod:
      return e.rev.main;
    case CompareTarget::kLease:
      return e.lease;
    case CompareTarget::kValue:
      break;
  }
  return 0;
}

template <class T>
Result<OpResult> wrap(Result<T> r) {
  if (!r) return r.error();
  return OpResult{std::move(r.value())};
}

}  // namespace

class Store::WriteTxn {
 public:
  // `begin` is the revision the entry starts from; `earlier` holds the shares of records that earlier
  // entries of the same batch put and the backend does not have yet.
  WriteTxn(Store& store, std::span<const std::string> shares, int64_t begin,
           const std::map<RecordKey, std::string>& earlier)
      : store_(store), index_(*store.index_), shares_(shares), begin_(begin), earlier_(earlier) {}

  bool changed() const { return sub_ > 0; }
  int64_t begin() const { return begin_; }
  WriteSet& writes() { return writes_; }
  std::map<RecordKey, std::string>& pending_shares() { return pending_shares_; }

  // --- phase 1: plan ---
  Verdict evaluate(const Compare& c) const {
    KeySpan span = KeySpan::of(c.key, c.range_end);
    if (c.target == CompareTarget::kValue) {
      std::vector<ObservedKey> seen;
      index_.for_each_visible(span, begin_, [&](const std::string& key, const IndexEntry& e) {
        seen.push_back(ObservedKey{key, e.rev.main});
        return true;
      });
      if (seen != c.observed) return Verdict::kStale;
      // etcd: a value compare over no key fails (a missing value cannot equal anything).
      if (seen.empty()) return Verdict::kFalse;
      return c.value_outcome ? Verdict::kTrue : Verdict::kFalse;
    }
    bool any = false, all = true;
    index_.for_each_visible(span, begin_, [&](const std::string&, const IndexEntry& e) {
      any = true;
      all = compare_numbers(c.result, compared_field(c.target, e), c.number);
      return all;
    });
    // etcd compares a missing key as an all-zero KeyValue.
    if (!any) all = compare_numbers(c.result, 0, c.number);
    return all ? Verdict::kTrue : Verdict::kFalse;
  }

  // nullopt: a value-compare guard failed somewhere on the path.
  std::optional<TxnPlan> plan(const TxnOp& txn) const {
    TxnPlan plan;
    plan.succeeded = true;
    for (const Compare& c : txn.compares) {
      Verdict v = evaluate(c);
      if (v == Verdict::kStale) return std::nullopt;
      if (v == Verdict::kFalse) {
        plan.succeeded = false;
        break;
      }
    }
    for (const RequestOp& op : plan.succeeded ? txn.success : txn.failure) {
      if (const auto* nested = std::get_if<TxnOp>(&op.op)) {
        auto nested_plan = plan_nested(*nested);
        if (!nested_plan) return std::nullopt;
        plan.nested.push_back(std::move(*nested_plan));
      }
    }
    return plan;
  }

  // --- phase 2: checks against the state before the entry ---
  Status check_put(const PutOp& put) const {
    if (put.lease != 0) return make_error(kLeaseNotFound);
    if (put.ignore_value || put.ignore_lease) {
      if (index_.visible(put.key, begin_) == nullptr) return make_error(kKeyNotFound);
    }
    if (!put.ignore_value && (!put.value_slot || *put.value_slot >= shares_.size())) {
      return make_error(kMissingShare, "value slot without a share");
    }
    return Status::Ok();
  }

  Status check_branch(const std::vector<RequestOp>& ops, const TxnPlan& plan) const {
    size_t nested = 0;
    for (const RequestOp& op : ops) {
      Status s = std::visit(
          [&](const auto& o) -> Status {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, RangeOp>) {
              if (o.revision > begin_) return make_error(kFutureRevision);
              if (o.revision > 0 && o.revision < store_.meta_.compact_revision) return make_error(kCompacted);
              return Status::Ok();
            } else if constexpr (std::is_same_v<T, PutOp>) {
              return check_put(o);
            } else if constexpr (std::is_same_v<T, DeleteRangeOp>) {
              return Status::Ok();
            } else {
              const TxnPlan& p = plan.nested[nested++];
              return check_branch(p.succeeded ? o.success : o.failure, p);
            }
          },
          op.op);
      if (!s) return s;
    }
    return Status::Ok();
  }

  // --- phase 3: execute ---
  Result<PutResult> put(const PutOp& put) {
    PutResult result;
    const int64_t at = read_rev();
    std::optional<IndexEntry> prev;
    if (const IndexEntry* p = index_.visible(put.key, at)) prev = *p;
    std::string share;
    if (prev && (put.prev_kv || put.ignore_value)) {
      auto prev_share = read_share(RecordKey{put.key, prev->rev});
      if (!prev_share) return prev_share.error();
      share = put.ignore_value ? prev_share.value() : std::string();
      if (put.prev_kv) {
        result.prev_kv = to_key_value(put.key, *prev);
        result.prev_kv->share = std::move(prev_share.value());
      }
    }
    if (!put.ignore_value) share = shares_[*put.value_slot];
    Revision rev = next_revision();
    Record record{false, prev ? prev->create_revision : rev.main, prev ? prev->version + 1 : 1,
                  put.ignore_lease && prev ? prev->lease : put.lease, std::move(share)};
    add(put.key, rev, std::move(record));
    return result;
  }

  Result<DeleteRangeResult> delete_range(const DeleteRangeOp& del) {
    DeleteRangeResult result;
    std::vector<std::pair<std::string, IndexEntry>> victims;
    index_.for_each_visible(KeySpan::of(del.key, del.range_end), read_rev(),
                            [&](const std::string& key, const IndexEntry& e) {
                              victims.emplace_back(key, e);
                              return true;
                            });
    for (auto& [key, entry] : victims) {
      if (del.prev_kv) {
        KeyValue kv = to_key_value(key, entry);
        auto share = read_share(RecordKey{key, entry.rev});
        if (!share) return share.error();
        kv.share = std::move(share.value());
        result.prev_kvs.push_back(std::move(kv));
      }
    }
    for (auto& [key, entry] : victims) add(key, next_revision(), Record{true, 0, 0, 0, {}});
    result.deleted = static_cast<int64_t>(victims.size());
    return result;
  }

  Result<RangeResult> range(const RangeOp& op) {
    int64_t at = op.revision > 0 ? op.revision : read_rev();
    return evaluate_range(index_, op, at, read_rev(),
                          [this](const RecordKey& key) { return read_share(key); });
  }

  Result<TxnResult> txn(const TxnOp& txn, const TxnPlan& plan) {
    TxnResult result;
    result.succeeded = plan.succeeded;
    size_t nested = 0;
    for (const RequestOp& op : plan.succeeded ? txn.success : txn.failure) {
      Result<OpResult> r = std::visit(
          [&](const auto& o) -> Result<OpResult> {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, RangeOp>) return wrap(range(o));
            if constexpr (std::is_same_v<T, PutOp>) return wrap(put(o));
            if constexpr (std::is_same_v<T, DeleteRangeOp>) return wrap(delete_range(o));
            if constexpr (std::is_same_v<T, TxnOp>) return wrap(this->txn(o, plan.nested[nested++]));
          },
          op.op);
      if (!r) return r.error();
      result.responses.push_back(std::move(r.value()));
    }
    return result;
  }

 private:
  std::optional<TxnPlan> plan_nested(const TxnOp& txn) const { return plan(txn); }

  // Reads inside the txn see its own earlier changes (etcd's write txn does too).
  int64_t read_rev() const { return changed() ? begin_ + 1 : begin_; }
  Revision next_revision() { return Revision{begin_ + 1, sub_++}; }

  void add(const std::string& key, Revision rev, Record record) {
    index_.add(key, IndexEntry{rev, record.create_revision, record.version, record.lease, record.tombstone});
    RecordKey record_key{key, rev};
    pending_shares_[record_key] = record.share;
    writes_.puts.emplace_back(std::move(record_key), std::move(record));
  }

  Result<std::string> read_share(const RecordKey& key) const {
    auto it = pending_shares_.find(key);
    if (it != pending_shares_.end()) return it->second;
    auto earlier = earlier_.find(key);
    if (earlier != earlier_.end()) return earlier->second;
    return store_.share_of(key);
  }

  Store& store_;
  KeyIndex& index_;
  std::span<const std::string> shares_;
  const int64_t begin_;
  int64_t sub_ = 0;
  const std::map<RecordKey, std::string>& earlier_;
  WriteSet writes_;
  std::map<RecordKey, std::string> pending_shares_;
};

// Entries planned but not yet durable: their changes go to the backend together.
struct Store::PendingBatch {
  BackendMeta next;  // the meta after the entries planned so far
  WriteSet writes;
  std::map<RecordKey, std::string> shares;  // shares of the records the batch puts
  size_t entries = 0;
};

Status Store::apply_noop(uint64_t index) {
  std::unique_lock lock(mu_);
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  if (meta_.install.active) return make_error(kRepairing);
  if (index != meta_.applied_index + 1) return make_error(kIndexOutOfOrder);
  WriteSet writes;
  writes.meta = meta_;
  writes.meta.applied_index = index;
  if (Status s = backend_->commit(writes); !s) return fail(s.error());
  meta_ = writes.meta;
  return Status::Ok();
}

Result<ApplyResult> Store::apply(uint64_t index, const Operation& op, std::span<const std::string> shares) {
  ApplyEntry entry{index, &op, shares};
  auto results = apply_batch(std::span<const ApplyEntry>(&entry, 1));
  if (!results) return results.error();
  return std::move(results->front());
}

Result<std::vector<Result<ApplyResult>>> Store::apply_batch(std::span<const ApplyEntry> entries) {
  std::unique_lock lock(mu_);
  if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
  if (meta_.install.active) return make_error(kRepairing);
  // Checked before anything is planned: planning changes the in-memory index.
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].index != meta_.applied_index + 1 + i) return make_error(kIndexOutOfOrder);
  }
  std::vector<Result<ApplyResult>> results;
  results.reserve(entries.size());
  size_t i = 0;
  while (i < entries.size()) {
    PendingBatch batch{meta_, {}, {}, 0};
    // A compaction deletes records, which the backend does before it puts: it goes in a batch of its own
    // so that it never meets a record put in the same batch.
    bool compaction = false;
    for (; i < entries.size(); ++i) {
      const ApplyEntry& e = entries[i];
      const bool compacts = e.op != nullptr && std::holds_alternative<CompactOp>(e.op->op);
      if (compacts && batch.entries > 0) break;
      Result<ApplyResult> r = ApplyResult{};
      if (e.op != nullptr) {
        r = plan_entry(e.index, *e.op, e.shares, batch);
      } else {
        batch.next.applied_index = e.index;
        ++batch.entries;
      }
      if (broken_.load()) return make_error(kStorage, "store stopped after a storage failure");
      results.push_back(std::move(r));
      if (compacts) {
        compaction = results.back().ok();
        ++i;
        break;
      }
    }
    batch.writes.meta = batch.next;
    // Entries the batch added to the index sit above the published revision, so reads may go on while
    // the batch is made durable. Compaction removes readable history, so it keeps readers out throughout.
    if (!compaction) lock.unlock();
    Status committed = backend_->commit(batch.writes);
    if (!compaction) lock.lock();
    if (!committed) return fail(committed.error()).error();
    meta_ = batch.next;
  }
  return results;
}

Result<ApplyResult> Store::plan_entry(uint64_t index, const Operation& op,
                                      std::span<const std::string> shares, PendingBatch& batch) {
  WriteTxn txn(*this, shares, batch.next.current_revision, batch.shares);
  BackendMeta next = batch.next;
  next.applied_index = index;

  // The leader validated the request before proposing; checking the structure again keeps a buggy or
  // hostile entry from producing states etcd could not (two writes of one key in a txn, say). The limits
  // are fixed here, not configured, so every member reaches the same verdict.
  static constexpr Limits kApplyLimits{SIZE_MAX, SIZE_MAX, kMaxEncodedTxnDepth};
  Status structure = validate_operation(op, kApplyLimits);

  // Executes the operation; an error here is deterministic and leaves the index untouched.
  using Outcome = std::variant<PutResult, DeleteRangeResult, TxnResult, CompactResult, RetryNeeded>;
  Result<Outcome> outcome = [&]() -> Result<Outcome> {
    if (!structure) return structure.error();
    return std::visit(
        [&](const auto& o) -> Result<Outcome> {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, PutOp>) {
            if (Status s = txn.check_put(o); !s) return s.error();
            auto r = txn.put(o);
            if (!r) return r.error();
            return Outcome{std::move(r.value())};
          } else if constexpr (std::is_same_v<T, DeleteRangeOp>) {
            auto r = txn.delete_range(o);
            if (!r) return r.error();
            return Outcome{std::move(r.value())};
          } else if constexpr (std::is_same_v<T, TxnOp>) {
            std::optional<TxnPlan> plan = txn.plan(o);
            if (!plan) return Outcome{RetryNeeded{}};
            if (Status s = txn.check_branch(plan->succeeded ? o.success : o.failure, *plan); !s)
              return s.error();
            auto r = txn.txn(o, *plan);
            if (!r) return r.error();
            return Outcome{std::move(r.value())};
          } else {
            if (o.revision <= next.compact_revision) return make_error(kCompacted);
            if (o.revision > next.current_revision) return make_error(kFutureRevision);
            txn.writes().deletes = index_->compact(o.revision);
            next.compact_revision = o.revision;
            return Outcome{CompactResult{}};
          }
        },
        op.op);
  }();

  if (!outcome && (is(outcome.error(), kStorage) || is(outcome.error(), kCorrupt))) {
    return fail(outcome.error()).error();
  }
  if (outcome && txn.changed()) next.current_revision = txn.begin() + 1;
  WriteSet& writes = txn.writes();
  for (auto& put : writes.puts) batch.writes.puts.push_back(std::move(put));
  for (auto& del : writes.deletes) batch.writes.deletes.push_back(std::move(del));
  batch.shares.merge(txn.pending_shares());
  batch.next = next;
  ++batch.entries;

  if (!outcome) return outcome.error();
  return ApplyResult{next.current_revision, std::move(outcome.value())};
}

}  // namespace etsecd::mvcc
