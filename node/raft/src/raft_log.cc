#include "raft_log.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace etsecd::raft {

RaftLog::RaftLog(const Storage& storage)
    : storage_(storage),
      unstable_offset_(storage.last_index() + 1),
      committed_(std::max(storage.hard_state().commit, storage.snapshot_meta().index)) {}

uint64_t RaftLog::first_index() const { return storage_.first_index(); }

uint64_t RaftLog::last_index() const {
  if (!unstable_.empty()) return unstable_offset_ + unstable_.size() - 1;
  return unstable_offset_ - 1;
}

Result<uint64_t> RaftLog::term(uint64_t i) const {
  if (i >= unstable_offset_) {
    if (i - unstable_offset_ < unstable_.size()) return unstable_[i - unstable_offset_].term;
    return make_error("raft.unavailable", "entry " + std::to_string(i) + " is beyond the log");
  }
  if (i == 0 && storage_.snapshot_meta().index == 0) return uint64_t{0};
  return storage_.term(i);  // raft.compacted before the snapshot (index 0 included, once compacted)
}

uint64_t RaftLog::term_or_zero(uint64_t i) const {
  auto t = term(i);
  return t ? *t : 0;
}

bool RaftLog::match_term(uint64_t i, uint64_t t) const {
  auto mine = term(i);
  return mine && *mine == t;
}

bool RaftLog::is_up_to_date(uint64_t li, uint64_t lt) const {
  return lt > last_term() || (lt == last_term() && li >= last_index());
}

Result<Entry> RaftLog::entry(uint64_t i) const {
  auto s = slice(i, i + 1, 0);
  if (!s) return s.error();
  return std::move(s->front());
}

Result<std::vector<Entry>> RaftLog::slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  std::vector<Entry> out;
  if (lo >= hi) return out;
  if (hi > last_index() + 1) return make_error("raft.unavailable", "slice beyond the log");
  uint64_t bytes = 0;
  if (lo < unstable_offset_) {
    auto stored = storage_.entries(lo, std::min(hi, unstable_offset_), max_bytes);
    if (!stored) return stored.error();
    for (Entry& e : *stored) bytes += entry_size(e);
    out = std::move(*stored);
    if (out.empty() || out.back().index + 1 < std::min(hi, unstable_offset_)) return out;  // byte limit hit
  }
  for (uint64_t i = std::max(lo, unstable_offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - unstable_offset_];
    bytes += entry_size(e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

uint64_t RaftLog::find_conflict(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

uint64_t RaftLog::find_conflict_by_term(uint64_t index, uint64_t t) const {
  index = std::min(index, last_index());
  while (index > 0) {
    auto mine = term(index);
    if (!mine) break;  // compacted: cannot look further back
    if (*mine <= t) break;
    --index;
  }
  return index;
}

uint64_t RaftLog::truncate_and_append(const std::vector<Entry>& entries) {
  if (entries.empty()) return 0;
  const uint64_t first = entries.front().index;
  assert(first > committed_ && first <= last_index() + 1);
  const uint64_t replaced = first <= last_index() ? first : 0;
  if (first >= unstable_offset_) {
    unstable_.resize(first - unstable_offset_);
  } else {
    unstable_.clear();
    unstable_offset_ = first;
  }
  unstable_.insert(unstable_.end(), entries.begin(), entries.end());
  return replaced;
}

void RaftLog::stable_to(uint64_t index, uint64_t t) {
  if (index < unstable_offset_ || !match_term(index, t)) return;  // overwritten since it was handed out
  const uint64_t n = index - unstable_offset_ + 1;
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<long>(n));
  unstable_offset_ = index + 1;
}

void RaftLog::restore(uint64_t index) {
  unstable_.clear();
  unstable_offset_ = index + 1;
  committed_ = index;
}

void RaftLog::commit_to(uint64_t index) {
  index = std::min(index, last_index());
  if (index > committed_) committed_ = index;
}

}  // namespace etsecd::raft
