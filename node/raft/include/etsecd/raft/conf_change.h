#pragma once
// Membership changes, one member at a time, carried through the log as EntryType::kConfChange entries
// (plaintext metadata, no shares). A change takes effect on every member when its entry is committed.
// docs/protocol.md section 9 states the rules and why they are safe.

#include <cstdint>

#include "etsecd/common/result.h"
#include "etsecd/raft/types.h"

namespace etsecd::raft {

enum class ConfChangeType : uint8_t {
  kAddLearner = 0,  // a new non-voting member with a share index nobody ever had
  kPromote = 1,     // learner -> voter
  kRemove = 2,      // voter or learner leaves; its x is never reused
  kUpdate = 3,      // replaces the member's context (e.g. peer URLs) and nothing else
};

const char* to_string(ConfChangeType type);

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddLearner;
  MemberId id = kNoMember;
  // kAddLearner only: the new member's share index; 0 = let the leader assign max_x_used + 1.
  uint8_t x = 0;
  // Opaque host data (name, peer URLs): stored as Member::context on kAddLearner, replaced on kUpdate.
  Bytes context;
  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// The metadata of a kConfChange entry.
Bytes encode_conf_change(const ConfChange& change);
// Errors: raft.bad_conf_change (truncated, trailing bytes, unknown version or type).
Result<ConfChange> decode_conf_change(const Bytes& bytes);

// The membership after the change, or why it is refused:
//   raft.bad_conf_change       member id 0, or no share index left (x would exceed 255)
//   raft.unknown_member        promote/remove/update of a member that is not in the membership
//   raft.member_exists         add of an id already in the membership
//   raft.x_reused              add with an explicit x <= max_x_used (share indexes are never reused)
//   raft.not_learner           promote of a voter
//   raft.last_voter            remove of the only voter
//   raft.invalid_threshold, raft.invalid_commit_quorum
//                              k > voters or W outside its range for the new voter count (the message
//                              gives the allowed range)
// An add with x = 0 gets x = max_x_used + 1. Pure: the same input always gives the same result.
Result<Membership> apply_conf_change(const Membership& membership, const ConfChange& change);

}  // namespace etsecd::raft
