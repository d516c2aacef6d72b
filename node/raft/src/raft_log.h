#pragma once
// The log as the core sees it: durable entries in Storage plus entries appended but not yet persisted
// (handed to the host in the next Ready). Entries at or after `unstable_offset_` come from memory;
// storage entries from that index on are stale (about to be overwritten) and never read.

#include <cstdint>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/storage.h"
#include "etsecd/raft/types.h"

namespace etsecd::raft {

class RaftLog {
 public:
  explicit RaftLog(const Storage& storage);

  uint64_t first_index() const;
  uint64_t last_index() const;
  uint64_t last_term() const { return term_or_zero(last_index()); }
  // The last index known to be on disk (and not about to be overwritten).
  uint64_t stable_last() const { return unstable_offset_ - 1; }

  Result<uint64_t> term(uint64_t i) const;
  uint64_t term_or_zero(uint64_t i) const;
  bool match_term(uint64_t i, uint64_t t) const;
  // Raft's up-to-date check of a candidate's (last term, last index) against ours.
  bool is_up_to_date(uint64_t last_index, uint64_t last_term) const;

  Result<Entry> entry(uint64_t i) const;
  Result<std::vector<Entry>> slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;

  // The first index in `entries` whose term differs from ours or that we do not have; 0 if none.
  uint64_t find_conflict(const std::vector<Entry>& entries) const;
  // The largest index <= index whose term is <= term (etcd's conflict search for fast back-off).
  uint64_t find_conflict_by_term(uint64_t index, uint64_t term) const;
  // Drops every entry at and after entries.front().index, then appends. Returns the first index
  // replaced (for dropped-proposal bookkeeping) or 0 when nothing was replaced.
  uint64_t truncate_and_append(const std::vector<Entry>& entries);

  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  void stable_to(uint64_t index, uint64_t term);

  uint64_t committed() const { return committed_; }
  void commit_to(uint64_t index);  // monotone; never past last_index()
  void set_committed(uint64_t index) { committed_ = index; }
  // The storage now starts after a snapshot at `index` (share repair): forget every unstable entry;
  // commit = index.
  void restore(uint64_t index);

 private:
  const Storage& storage_;
  uint64_t unstable_offset_;
  std::vector<Entry> unstable_;
  uint64_t committed_ = 0;
};

}  // namespace etsecd::raft
