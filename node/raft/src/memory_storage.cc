#include <algorithm>
#include <string>

#include "etsecd/raft/storage.h"

namespace etsecd::raft {

uint64_t entry_size(const Entry& e) {
  uint64_t n = 24 + e.metadata.size();
  for (const Bytes& s : e.shares) n += s.size() + 4;
  return n;
}

Result<uint64_t> MemoryStorage::term(uint64_t i) const {
  if (i < snapshot_.index)
    return make_error("raft.compacted", "entry " + std::to_string(i) + " is compacted");
  if (i == snapshot_.index) return snapshot_.term;
  if (i > last_index())
    return make_error("raft.unavailable", "entry " + std::to_string(i) + " is not stored");
  return entries_[i - snapshot_.index - 1].term;
}

Result<std::vector<Entry>> MemoryStorage::entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  if (lo <= snapshot_.index)
    return make_error("raft.compacted", "entry " + std::to_string(lo) + " is compacted");
  if (hi > last_index() + 1) {
    return make_error("raft.unavailable", "entries up to " + std::to_string(hi - 1) + " are not stored");
  }
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - snapshot_.index - 1];
    bytes += entry_size(e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Status MemoryStorage::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  const uint64_t first = entries.front().index;
  if (first <= snapshot_.index) return make_error("raft.compacted", "append before the snapshot");
  if (first > last_index() + 1) {
    return make_error("raft.log_gap", "append at " + std::to_string(first) + " after last index " +
                                          std::to_string(last_index()));
  }
  entries_.resize(first - snapshot_.index - 1);
  entries_.insert(entries_.end(), entries.begin(), entries.end());
  return Status::Ok();
}

Status MemoryStorage::replace_share(uint64_t index, uint64_t term, uint32_t value, const Bytes& share) {
  if (index <= snapshot_.index || index > last_index()) {
    return make_error("raft.unavailable", "entry " + std::to_string(index) + " is not stored");
  }
  Entry& e = entries_[index - snapshot_.index - 1];
  if (e.term != term)
    return make_error("raft.term_mismatch", "entry " + std::to_string(index) + " has another term");
  if (value >= e.shares.size()) return make_error("raft.unavailable", "entry has no such value");
  e.shares[value] = share;
  return Status::Ok();
}

Status MemoryStorage::compact(uint64_t index, const Membership& membership) {
  if (index <= snapshot_.index) return Status::Ok();
  if (index > last_index()) return make_error("raft.unavailable", "cannot compact past the last index");
  const uint64_t t = entries_[index - snapshot_.index - 1].term;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(index - snapshot_.index));
  snapshot_.index = index;
  snapshot_.term = t;
  snapshot_.membership = membership;
  return Status::Ok();
}

void MemoryStorage::install_snapshot(const SnapshotMeta& meta) {
  entries_.clear();
  snapshot_ = meta;
  hard_state_.commit = std::max(hard_state_.commit, meta.index);
}

}  // namespace etsecd::raft
