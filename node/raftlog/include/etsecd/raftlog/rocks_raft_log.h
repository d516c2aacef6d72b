#pragma once
// The Raft log, hard state and snapshot metadata of one member in RocksDB (its own database under the
// data directory, so only the log pays for fsync; the KV store replays from it after a crash).
// Holds only this member's shares: entries are stored exactly as the core hands them over.
// RocksDB headers stay in the .cc file.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/node.h"
#include "etsecd/raft/storage.h"

namespace etsecd::raftlog {

// Whether persist() must fsync: for entries, share repairs, or a new term or vote, but not for a hard
// state whose only change is the commit index (`stored` is the last persisted hard state).
bool need_sync(const std::optional<raft::HardState>& hard_state, const std::vector<raft::Entry>& entries,
               const std::vector<raft::ShareRepair>& repairs, const raft::HardState& stored);

// The snapshot meta as stored here and carried in a share repair's finish (index, term, membership).
std::string encode_snapshot_meta(const raft::SnapshotMeta& meta);
// Errors: raftlog.corrupt.
Result<raft::SnapshotMeta> decode_snapshot_meta(const std::string& bytes);

class RocksRaftLog final : public raft::Storage {
 public:
  // Opens or creates the log in `dir`. Errors: raftlog.open, raftlog.corrupt.
  static Result<std::unique_ptr<RocksRaftLog>> open(const std::string& dir);
  ~RocksRaftLog() override;

  raft::HardState hard_state() const override;
  raft::SnapshotMeta snapshot_meta() const override;
  uint64_t first_index() const override;
  uint64_t last_index() const override;
  Result<uint64_t> term(uint64_t i) const override;
  Result<std::vector<raft::Entry>> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const override;

  // Makes a Ready's durable part durable in ONE atomic, fsynced write: hard state, entries (replacing
  // any stored suffix from the first entry's index) and share repairs. A write that only advances the
  // commit index is not fsynced (see need_sync). Errors: raftlog.write, raftlog.log_gap,
  // raftlog.compacted.
  Status persist(const std::optional<raft::HardState>& hard_state, const std::vector<raft::Entry>& entries,
                 const std::vector<raft::ShareRepair>& repairs);

  // Discards entries through `index`, recording its term and the membership at that point. Not fsynced:
  // after a crash the log may still hold those entries (the next persist makes it durable).
  Status compact(uint64_t index, const raft::Membership& membership);

  // Makes the log start right after `meta` (a share-repair snapshot): drops every entry, records the
  // meta and raises the hard state's commit to meta.index, in one atomic, fsynced write. Idempotent: a
  // repeated install of the same meta changes nothing (a repair finish may be retried after a crash).
  // Errors: raftlog.write.
  Status install_snapshot(const raft::SnapshotMeta& meta);

  // Whether the log has ever been written (a fresh member bootstraps from its flags).
  bool empty() const;

  struct Impl;

 private:
  explicit RocksRaftLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etsecd::raftlog
