#pragma once
// The member's MVCC key-value store with etcd v3 semantics over opaque value bytes (this member's shares).
// Reads may run concurrently with each other and with apply(); apply() calls must come from one thread
// in raft log order. Keys, revisions, versions and leases are plaintext; values exist only as shares.
//
// Apply contract: apply(index, ...) must be called with index == applied_index() + 1 for every committed
// raft entry that carries an Operation; apply_noop(index) for any other entry (config changes, empty
// entries), so that the applied index stored with the data always equals the last entry applied. The
// records and the applied index are written in one atomic, durable batch. A deterministic error (e.g.
// compacted revision) leaves the data unchanged but still advances the applied index: every member reaches
// the same verdict. A backend failure is fatal: the store refuses all further work (like etcd, which
// panics), because memory and disk may then disagree.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/backend.h"
#include "etsecd/mvcc/kv.h"
#include "etsecd/mvcc/operation.h"

namespace etsecd::mvcc {

class KeyIndex;

class Store {
 public:
  // Rebuilds the index from the backend. Errors: kCorrupt, kStorage.
  static Result<std::unique_ptr<Store>> open(std::unique_ptr<Backend> backend);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A read at op.revision (<= 0: current). Errors: kCompacted, kFutureRevision, validation errors.
  Result<RangeResult> range(const RangeOp& op) const;

  // The record that made `key` what it was at `mod_revision` (a put, not a tombstone), with this member's
  // share: what a peer asks for when gathering shares of one value. Error kCompacted if it is gone,
  // kKeyNotFound if there is no such put.
  Result<KeyValue> get_at(std::string_view key, int64_t mod_revision) const;

  // shares[i] is this member's share for value slot i of the entry.
  Result<ApplyResult> apply(uint64_t index, const Operation& op, std::span<const std::string> shares);
  Status apply_noop(uint64_t index);

  // One committed raft entry for apply_batch: an operation with this member's shares, or a noop (op null).
  struct ApplyEntry {
    uint64_t index = 0;
    const Operation* op = nullptr;
    std::span<const std::string> shares;
  };
  // Consecutive entries (the first at applied_index() + 1), with the results apply() would give one by
  // one, committed in one atomic backend batch (a compaction in one of its own): one backend write
  // per Ready, not one per entry. The stored applied index is the batch's last entry, written with its
  // records, so after a crash it still names exactly the last entry whose effects are on disk. One result per
  // entry; a deterministic error fails only its entry. Errors of the whole call, with nothing applied:
  // kIndexOutOfOrder, kRepairing; kStorage/kCorrupt stop the store.
  Result<std::vector<Result<ApplyResult>>> apply_batch(std::span<const ApplyEntry> entries);

  // Snapshot support (raft snapshots, bringing a learner up to date). export_records calls visit for every
  // stored record of the published state, in key then revision order, with this member's share, and
  // returns the state's meta; applies wait while it runs. A learner's records are these with its own
  // shares substituted (rebuilt from k holders), then install()ed.
  Result<BackendMeta> export_records(
      const std::function<Status(const RecordKey&, const Record&)>& visit) const;
  // Replaces all records and the meta with the given ones in one atomic batch. Errors: kCorrupt if the
  // records do not fit the meta (revisions outside [1, current_revision]).
  Status install(const BackendMeta& meta, const std::vector<std::pair<RecordKey, Record>>& records);

  // ---- Share repair: a snapshot streamed in bounded chunks (docs/protocol.md section 9) ----
  struct ExportChunk {
    std::vector<std::pair<RecordKey, Record>> records;
    bool done = false;  // no record after the last one returned
  };
  // Records with main revision <= at, in key then revision order, strictly after `after` (nullopt: from
  // the start), with this member's shares: at most max_records and about max_bytes of shares (at least
  // one record when any remain). Applies are not blocked between chunks: records at or below `at` never
  // change, except that a later compaction may remove some, which the receiver replays itself.
  // Errors: kFutureRevision (at > current revision), kRepairing.
  Result<ExportChunk> export_chunk(int64_t at, const std::optional<RecordKey>& after, size_t max_records,
                                   uint64_t max_bytes) const;
  // This member's share of each put record in `keys`, nullopt where it has none (compacted, or a
  // tombstone). Errors: kRepairing, kStorage.
  Result<std::vector<std::optional<std::string>>> shares_of(std::span<const RecordKey> keys) const;
  // Where the published state stands (what an export at current_revision belongs to).
  SnapshotPoint snapshot_point() const;

  // Receiving side. begin_install wipes every record and starts installing `target` (tagged with the
  // caller's `source`); install_chunk adds records that must come after the last one installed, in one
  // durable batch with the new cursor; finish_install publishes the target. While an install is active
  // the store refuses reads, exports and applies (kRepairing); after a restart install_state() tells
  // where to resume. Errors: kCorrupt (records out of order or outside the target's revisions),
  // kNoInstall (install_chunk/finish_install without begin_install), kStorage.
  Status begin_install(uint64_t source, const SnapshotPoint& target);
  Status install_chunk(const std::vector<std::pair<RecordKey, Record>>& records);
  Status finish_install();
  InstallState install_state() const;
  bool installing() const;  // install_state().active, without copying the state (apply path)

  // Makes everything applied so far durable and returns the applied index that is now on disk. Only
  // needed when the backend commits without fsync (storage::RocksOptions::sync = false, group commit):
  // the raft layer must then keep log entries above the index sync() last returned, and replays them
  // after a crash. Atomicity per entry holds either way.
  Result<uint64_t> sync();

  uint64_t applied_index() const;
  int64_t current_revision() const;
  int64_t compact_revision() const;
  size_t key_count() const;  // live keys at the current revision

 private:
  explicit Store(std::unique_ptr<Backend> backend);
  class WriteTxn;
  friend class WriteTxn;
  struct PendingBatch;
  Result<ApplyResult> plan_entry(uint64_t index, const Operation& op, std::span<const std::string> shares,
                                 PendingBatch& batch);

  Status fail(const Error& error);  // marks the store broken
  Result<std::string> share_of(const RecordKey& key) const;

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<KeyIndex> index_;
  BackendMeta meta_;
  mutable std::shared_mutex mu_;
  std::atomic<bool> broken_{false};
};

}  // namespace etsecd::mvcc
