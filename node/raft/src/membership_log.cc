#include "membership_log.h"

#include <algorithm>
#include <iterator>

#include "etsecd/raft/conf_change.h"

namespace etsecd::raft {

namespace {
constexpr uint64_t kReplayBatchBytes = 8 << 20;

bool contains(const Membership& m, MemberId id) {
  return std::any_of(m.members.begin(), m.members.end(), [id](const Member& x) { return x.id == id; });
}
}  // namespace

Result<MembershipLog> MembershipLog::replay(const Storage& storage, const Membership& bootstrap,
                                            MemberId self) {
  const SnapshotMeta snap = storage.snapshot_meta();
  MembershipLog log(snap.membership.members.empty() ? bootstrap : snap.membership);
  uint64_t next = storage.first_index();
  const uint64_t last = storage.last_index();
  while (next <= last) {
    auto batch = storage.entries(next, last + 1, kReplayBatchBytes);
    if (!batch) return batch.error();
    if (batch->empty()) break;
    for (const Entry& e : *batch) log.record(e);
    next = batch->back().index + 1;
  }
  log.on_commit(storage.hard_state().commit, self);
  return log;
}

void MembershipLog::record(const Entry& entry) {
  if (entry.type != EntryType::kConfChange) return;
  const Membership& before = latest();
  auto change = decode_conf_change(entry.metadata);
  Membership after = before;
  if (change) {
    auto applied = apply_conf_change(before, *change);
    if (applied) after = std::move(*applied);
  }
  pending_[entry.index] = std::move(after);
}

void MembershipLog::on_append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  pending_.erase(pending_.lower_bound(entries.front().index), pending_.end());
  for (const Entry& e : entries) record(e);
}

bool MembershipLog::on_commit(uint64_t commit, MemberId self) {
  bool changed = false;
  while (!pending_.empty() && pending_.begin()->first <= commit) {
    const bool was_member = contains(committed_, self);
    committed_ = std::move(pending_.begin()->second);
    history_[pending_.begin()->first] = committed_;
    pending_.erase(pending_.begin());
    if (was_member && !contains(committed_, self)) removed_self_ = true;
    changed = true;
  }
  return changed;
}

const Membership& MembershipLog::at(uint64_t index) const {
  if (auto p = pending_.upper_bound(index); p != pending_.begin()) return std::prev(p)->second;
  if (auto h = history_.upper_bound(index); h != history_.begin()) return std::prev(h)->second;
  return base_;
}

}  // namespace etsecd::raft
