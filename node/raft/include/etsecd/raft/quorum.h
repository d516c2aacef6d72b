#pragma once
// Quorum arithmetic for Raft over (k, n) Shamir shares, shared by the core, the member binary (start-up
// validation and the fault-tolerance line it prints) and membership changes.
//
//   n  voters            k  threshold (shares needed to rebuild a value), 2 <= k <= n
//   W  commit quorum     max(floor(n/2)+1, k) <= W <= n, default ceil((n+k)/2)
//
// W >= floor(n/2)+1 keeps Raft's leader completeness (every commit quorum meets every election
// quorum); W >= k makes every committed value rebuildable; W >= ceil((n+k)/2) additionally guarantees
// that any W live members hold k shares of every committed value, so a new leader never stalls.

#include <string>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"

namespace etsecd::raft {

inline constexpr unsigned kMaxMembers = 255;

struct QuorumSettings {
  unsigned voters = 0;         // n
  unsigned threshold = 0;      // k
  unsigned commit_quorum = 0;  // W
  friend bool operator==(const QuorumSettings&, const QuorumSettings&) = default;
};

// How many voters may be lost while each guarantee still holds.
struct FaultTolerance {
  unsigned writes = 0;                      // n - W: commits continue
  unsigned elections = 0;                   // n - (floor(n/2)+1): a leader can be elected
  unsigned reads_after_commit = 0;          // W - k: a value just committed stays readable
  unsigned reads_fully_replicated = 0;      // n - k: a value on every voter stays readable
  bool leader_change_never_stalls = false;  // W >= ceil((n+k)/2)
};

unsigned election_quorum(unsigned voters);
unsigned default_commit_quorum(unsigned voters, unsigned threshold);
unsigned min_commit_quorum(unsigned voters, unsigned threshold);

// Validates k and the requested W (0 = default) for n voters. Errors: raft.no_voters,
// raft.too_many_members, raft.invalid_threshold, raft.invalid_commit_quorum; messages name the
// allowed range.
Result<QuorumSettings> resolve_quorum(unsigned voters, unsigned threshold, unsigned requested_commit_quorum);

FaultTolerance fault_tolerance(const QuorumSettings& settings);

// One line for start-up logs, e.g. "n=5 k=3 W=4: writes survive 1 lost voter, ...".
std::string describe(const QuorumSettings& settings);

// Checks a membership (unique ids, unique share indexes 1..max_x_used, at least one voter) and resolves
// its quorum. Errors: raft.invalid_membership plus those of resolve_quorum.
Result<QuorumSettings> validate_membership(const Membership& membership);

// The initial membership: member i (0-based) of `ids` gets x = i+1, on every member identically.
Result<Membership> initial_membership(const std::vector<MemberId>& ids, unsigned threshold,
                                      unsigned requested_commit_quorum);

}  // namespace etsecd::raft
