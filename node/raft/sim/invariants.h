#pragma once
// Safety invariants the simulator checks after every step:
//   election safety      at most one leader per term
//   log matching         an (index, term) names one entry (same metadata, same previous term) on every
//                        member, so equal entries imply equal prefixes
//   leader completeness  the newest leader's log holds every committed entry
//   state-machine safety every member applies the same entry at each index, and the values rebuilt
//                        from shares equal the proposed ones
//   durability           every committed value keeps >= k holders among the current voters, entries
//                        committed since the last completed membership change keep >= W of the current
//                        configuration, and values rebuild from random k of their holders; a member
//                        holds an entry in its log or, once compacted, in its state machine
//   secrecy              a member stores only its own shares (x, k checked) and never a plaintext value
//   reads                a confirmed read index covers every commit that happened before the read

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etsecd/raft/node.h"
#include "etsecd/raft/storage.h"
#include "tests/test_random.h"

namespace etsecd::raft::sim {

// A member's state machine as the simulator keeps it: every applied entry with the member's own
// shares, i.e. what its KV store holds (durable; it survives crashes and log compaction).
using StateMachine = std::map<uint64_t, Entry>;

struct SimMemberView {
  MemberId id = kNoMember;
  uint8_t x = 0;
  const MemoryStorage* storage = nullptr;
  bool voter = true;
  const StateMachine* state_machine = nullptr;
};

// The member's copy of entry (index, term): from its log, or from its state machine once compacted.
// nullptr when it holds none. `scratch` backs a copy read from storage.
const Entry* held_entry(const SimMemberView& member, uint64_t index, uint64_t term, Entry& scratch);
// Whether it holds one (without copying it).
bool holds_entry(const SimMemberView& member, uint64_t index, uint64_t term);

class InvariantChecker {
 public:
  // `initial`: the bootstrap membership; committed conf changes (seen through on_apply) update it.
  explicit InvariantChecker(const Membership& initial);

  // All return "" when the invariant holds, else a description of the violation.
  void record_proposal(ProposalId id, const std::vector<Bytes>& values);
  std::string on_persist(const SimMemberView& member, const std::vector<Entry>& appended);
  std::string on_apply(MemberId member, const Entry& entry);
  std::string on_leader(MemberId member, uint64_t term);
  std::string on_read(uint64_t read_index, uint64_t commit_when_issued);
  std::string check_leader_log(MemberId member, uint64_t term, const MemoryStorage& storage) const;
  // Holder counts of every committed value; rebuild checks for newly committed entries, `extra`
  // random ones, or all of them when `all` is set.
  std::string check_committed(const std::vector<SimMemberView>& members, testing::TestRandom& rng,
                              unsigned extra, bool all);

  std::optional<uint64_t> committed_term(uint64_t index) const {
    auto it = committed_.find(index);
    if (it == committed_.end()) return std::nullopt;
    return it->second.first;
  }
  uint64_t committed_index() const { return committed_.empty() ? 0 : committed_.rbegin()->first; }
  uint64_t rebuilds_checked() const { return rebuilds_checked_; }
  // The configuration in effect: the bootstrap one plus every committed conf change, in index order.
  const Membership& membership() const { return membership_; }
  unsigned commit_quorum() const { return w_; }
  uint64_t changes_committed() const { return changes_committed_; }
  // Scans every byte a member stores for the first 16 bytes of any proposed value.
  std::string scan_for_plaintext(const SimMemberView& member) const;

 private:
  struct Identity {
    EntryType type;
    Bytes metadata;
    size_t values;
    uint64_t prev_term;
  };
  std::string check_rebuild(uint64_t index, uint64_t term, const std::vector<SimMemberView>& members,
                            testing::TestRandom& rng);

  bool is_voter(MemberId id) const;

  Membership membership_;
  unsigned k_;
  unsigned w_;                      // of the configuration in effect
  uint64_t last_change_index_ = 0;  // index of the last committed conf change
  uint64_t changes_committed_ = 0;
  std::map<uint64_t, MemberId> leaders_;                          // term -> leader
  std::map<std::pair<uint64_t, uint64_t>, Identity> identities_;  // (index, term)
  std::map<std::pair<uint64_t, uint64_t>, std::vector<Bytes>> proposals_;
  std::map<uint64_t, std::pair<uint64_t, Bytes>> committed_;  // index -> (term, metadata)
  std::vector<uint64_t> newly_committed_;
  uint64_t rebuilds_checked_ = 0;
};

}  // namespace etsecd::raft::sim
