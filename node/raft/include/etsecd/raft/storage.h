#pragma once
// The durable state the core reads. The core never writes storage: the host persists what a Ready hands
// it and then calls Node::advance. Durability contract for any implementation (RocksDB later):
//   - Ready::hard_state and Ready::entries are written in ONE atomic batch and fsynced before any
//     message of that Ready is sent, and before advance() (a member's acknowledgement is a promise
//     that its share is on disk; the commit rule counts those promises). One exception: a hard state
//     whose only change is the commit index may be written without fsync (as etcd does): the commit
//     index is re-learned from the leader, and the core copes with applied > stored commit after a
//     crash. Term, vote, entries and share repairs are always fsynced.
//   - Appending entries whose first index is i first removes every stored entry with index >= i.
//   - Ready::share_repairs overwrite one stored share in place (same durability).
//   - Reads reflect every completed write.
// A member's storage holds only its own shares: never another member's share, never a plaintext value.

#include <cstdint>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"

namespace etsecd::raft {

class Storage {
 public:
  virtual ~Storage() = default;
  virtual HardState hard_state() const = 0;
  virtual SnapshotMeta snapshot_meta() const = 0;
  // first_index() == snapshot_meta().index + 1; last_index() == snapshot index when the log is empty.
  virtual uint64_t first_index() const = 0;
  virtual uint64_t last_index() const = 0;
  // Term of entry i; the snapshot's index gives the snapshot's term. Errors: raft.compacted (i before
  // the snapshot), raft.unavailable (i after the last index).
  virtual Result<uint64_t> term(uint64_t i) const = 0;
  // Entries [lo, hi): at least one when lo < hi and lo is available, then stop before exceeding
  // max_bytes. Errors: raft.compacted, raft.unavailable.
  virtual Result<std::vector<Entry>> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const = 0;
};

// Approximate stored size of an entry, for byte limits.
uint64_t entry_size(const Entry& entry);

// An in-memory Storage for tests and the simulator; the host side (append, set_hard_state, ...) is
// what a durable implementation must offer too.
class MemoryStorage final : public Storage {
 public:
  MemoryStorage() = default;

  HardState hard_state() const override { return hard_state_; }
  SnapshotMeta snapshot_meta() const override { return snapshot_; }
  uint64_t first_index() const override { return snapshot_.index + 1; }
  uint64_t last_index() const override { return snapshot_.index + entries_.size(); }
  Result<uint64_t> term(uint64_t i) const override;
  Result<std::vector<Entry>> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const override;

  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  // Removes stored entries at and after entries.front().index, then appends. Errors:
  // raft.log_gap when the first index would leave a hole, raft.compacted before the snapshot.
  Status append(const std::vector<Entry>& entries);
  // Replaces one share of a stored entry (integrity repair). Errors: raft.unavailable, raft.term_mismatch.
  Status replace_share(uint64_t index, uint64_t term, uint32_t value, const Bytes& share);
  // Discards entries up to and including `index` (which must be stored); records its term and the
  // configuration at it (Node::membership_at(index)). An index at or below the snapshot: nothing to do.
  Status compact(uint64_t index, const Membership& membership);
  // A share-repair snapshot replaces the whole log: every entry is dropped, the log starts after
  // meta.index, and the hard state's commit becomes at least meta.index (one atomic write in a durable
  // implementation). Then Node::restore(meta).
  void install_snapshot(const SnapshotMeta& meta);

  // Read-only view of every stored entry, for inspection in tests and the simulator.
  const std::vector<Entry>& stored_entries() const { return entries_; }
  // Mutable access for fault injection in tests (corrupting a stored share).
  std::vector<Entry>& mutable_entries_for_testing() { return entries_; }

 private:
  HardState hard_state_;
  SnapshotMeta snapshot_;
  std::vector<Entry> entries_;  // entries_[0].index == snapshot_.index + 1
};

}  // namespace etsecd::raft
