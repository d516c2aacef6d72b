#include "etsecd/raft/quorum.h"

#include <algorithm>
#include <set>

#include "etsecd/common/quorum.h"

namespace etsecd::raft {

// The arithmetic itself is etsecd/common/quorum.h, shared with the flags' validation and the operator.
unsigned election_quorum(unsigned voters) { return quorum::majority(voters); }

unsigned default_commit_quorum(unsigned voters, unsigned threshold) {
  return quorum::default_commit_quorum(voters, threshold);
}

unsigned min_commit_quorum(unsigned voters, unsigned threshold) {
  return quorum::min_commit_quorum(voters, threshold);
}

Result<QuorumSettings> resolve_quorum(unsigned voters, unsigned threshold, unsigned requested_commit_quorum) {
  if (voters == 0) return make_error("raft.no_voters", "the cluster needs at least one voting member");
  if (voters > kMaxMembers) {
    return make_error("raft.too_many_members", "at most " + std::to_string(kMaxMembers) +
                                                   " members are supported, got " + std::to_string(voters));
  }
  if (threshold < 2 || threshold > voters) {
    return make_error("raft.invalid_threshold", "threshold k=" + std::to_string(threshold) +
                                                    " must satisfy 2 <= k <= voters (" +
                                                    std::to_string(voters) + ")");
  }
  const unsigned lo = min_commit_quorum(voters, threshold);
  const unsigned w =
      requested_commit_quorum == 0 ? default_commit_quorum(voters, threshold) : requested_commit_quorum;
  if (w < lo || w > voters) {
    return make_error("raft.invalid_commit_quorum",
                      "commit quorum W=" + std::to_string(w) + " must satisfy max(floor(n/2)+1, k)=" +
                          std::to_string(lo) + " <= W <= n=" + std::to_string(voters) +
                          " (n=" + std::to_string(voters) + " voters, k=" + std::to_string(threshold) + ")");
  }
  return QuorumSettings{voters, threshold, w};
}

FaultTolerance fault_tolerance(const QuorumSettings& s) {
  FaultTolerance f;
  f.writes = s.voters - s.commit_quorum;
  f.elections = s.voters - election_quorum(s.voters);
  f.reads_after_commit = s.commit_quorum - s.threshold;
  f.reads_fully_replicated = s.voters - s.threshold;
  f.leader_change_never_stalls = s.commit_quorum >= default_commit_quorum(s.voters, s.threshold);
  return f;
}

std::string describe(const QuorumSettings& s) {
  const FaultTolerance f = fault_tolerance(s);
  std::string out = "n=" + std::to_string(s.voters) + " k=" + std::to_string(s.threshold) +
                    " W=" + std::to_string(s.commit_quorum) + ": writes survive " + std::to_string(f.writes) +
                    " lost voter(s), elections " + std::to_string(f.elections) +
                    ", reads of a just-committed value " + std::to_string(f.reads_after_commit) +
                    ", reads of a fully replicated value " + std::to_string(f.reads_fully_replicated);
  if (!f.leader_change_never_stalls) {
    out += "; W is below ceil((n+k)/2)=" + std::to_string(default_commit_quorum(s.voters, s.threshold)) +
           ", so a leader change while voters are down may stall until they return (no data is lost)";
  }
  return out;
}

Result<QuorumSettings> validate_membership(const Membership& m) {
  std::set<MemberId> ids;
  std::set<uint8_t> xs;
  unsigned voters = 0;
  for (const Member& member : m.members) {
    if (member.id == kNoMember) return make_error("raft.invalid_membership", "member id 0 is reserved");
    if (!ids.insert(member.id).second) {
      return make_error("raft.invalid_membership",
                        "member id " + std::to_string(member.id) + " appears twice");
    }
    if (member.x == 0 || member.x > m.max_x_used) {
      return make_error("raft.invalid_membership", "member " + std::to_string(member.id) +
                                                       " has share index " + std::to_string(member.x) +
                                                       " outside 1.." + std::to_string(m.max_x_used));
    }
    if (!xs.insert(member.x).second) {
      return make_error("raft.invalid_membership",
                        "share index " + std::to_string(member.x) + " is used by two members");
    }
    if (member.voter) ++voters;
  }
  return resolve_quorum(voters, m.threshold, m.commit_quorum_override);
}

Result<Membership> initial_membership(const std::vector<MemberId>& ids, unsigned threshold,
                                      unsigned requested_commit_quorum) {
  if (ids.size() > kMaxMembers) {
    return make_error("raft.too_many_members",
                      "at most " + std::to_string(kMaxMembers) + " members are supported");
  }
  Membership m;
  m.threshold = threshold;
  m.commit_quorum_override = requested_commit_quorum;
  for (size_t i = 0; i < ids.size(); ++i)
    m.members.push_back(Member{ids[i], static_cast<uint8_t>(i + 1), true, {}});
  m.max_x_used = static_cast<uint8_t>(ids.size());
  auto q = validate_membership(m);
  if (!q) return q.error();
  return m;
}

}  // namespace etsecd::raft
