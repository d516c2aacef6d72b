#pragma once
// The configurations a member's log implies: the committed one (in effect) and the chain of appended but
// not yet committed conf changes after it. Rebuilt from Storage at start, then kept up to date as
// entries are appended, truncated and committed.

#include <cstdint>
#include <map>

#include "etsecd/common/result.h"
#include "etsecd/raft/storage.h"
#include "etsecd/raft/types.h"

namespace etsecd::raft {

class MembershipLog {
 public:
  explicit MembershipLog(Membership committed) : base_(committed), committed_(std::move(committed)) {}

  // Starts from the snapshot's membership (or `bootstrap` when the snapshot has none) and applies every
  // stored kConfChange entry in order: those at or below the hard state's commit index take effect,
  // later ones are pending. `self` tells whether a committed change removed this member.
  static Result<MembershipLog> replay(const Storage& storage, const Membership& bootstrap, MemberId self);

  const Membership& committed() const { return committed_; }
  // The newest configuration: the last pending one, or the committed one.
  const Membership& latest() const { return pending_.empty() ? committed_ : pending_.rbegin()->second; }
  // Pending configurations by the index of the entry that creates them.
  const std::map<uint64_t, Membership>& pending() const { return pending_; }
  bool has_pending() const { return !pending_.empty(); }
  bool removed_self() const { return removed_self_; }
  // The configuration the log prefix up to `index` defines: the starting one, then every recorded
  // change (committed or pending) at or below `index`.
  const Membership& at(uint64_t index) const;

  // Records the entries just appended to the log, after discarding pending changes at or after the
  // first one's index (they were truncated). A change that apply_conf_change refuses changes nothing,
  // identically on every member.
  void on_append(const std::vector<Entry>& entries);
  // Pending changes at or below `commit` take effect. Returns whether the committed configuration
  // changed.
  bool on_commit(uint64_t commit, MemberId self);

 private:
  void record(const Entry& entry);

  Membership base_;                         // where this log starts: bootstrap or snapshot membership
  std::map<uint64_t, Membership> history_;  // committed changes by entry index (conf changes are rare)
  Membership committed_;
  std::map<uint64_t, Membership> pending_;
  bool removed_self_ = false;
};

}  // namespace etsecd::raft
