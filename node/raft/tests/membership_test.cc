// Membership changes and leadership transfer in the Raft core: learners, promotion, removal, the
// refusals, restart replay and TimeoutNow.
#include <doctest/doctest.h>

#include "tests/test_cluster.h"

using namespace etsecd::raft;
using namespace etsecd::raft::testing;

namespace {

ConfChange add_learner(MemberId id, uint8_t x = 0) {
  return ConfChange{ConfChangeType::kAddLearner, id, x, {'c'}};
}
ConfChange promote(MemberId id) { return ConfChange{ConfChangeType::kPromote, id, 0, {}}; }
ConfChange remove_member(MemberId id) { return ConfChange{ConfChangeType::kRemove, id, 0, {}}; }

const Member* find(const Membership& m, MemberId id) {
  for (const Member& x : m.members)
    if (x.id == id) return &x;
  return nullptr;
}

// Commits a change and returns the proposal.
ProposalId change(TestCluster& c, MemberId leader, const ConfChange& cc) {
  auto id = c.node(leader).propose_conf_change(cc);
  REQUIRE(id.ok());
  c.deliver();
  REQUIRE(c.node(leader).status().commit >= id->index);
  return *id;
}

}  // namespace

TEST_CASE("a learner joins with a fresh x, catches up by repair, is promoted and counts toward W") {
  TestCluster c(3, 2);
  c.elect(1);
  write(c, 1, 3);

  auto p = c.node(1).propose_conf_change(add_learner(10));
  REQUIRE(p.ok());
  // The assigned share index is visible at once in membership(), not yet in effect.
  REQUIRE(find(c.node(1).membership(), 10));
  CHECK(find(c.node(1).membership(), 10)->x == 4);
  CHECK_FALSE(find(c.node(1).committed_membership(), 10));
  CHECK(c.node(1).status().conf_change_pending);
  CHECK(c.node(1).propose_conf_change(remove_member(3)).error().code == "raft.conf_change_pending");
  c.deliver();
  CHECK_FALSE(c.node(1).status().conf_change_pending);
  for (MemberId id : {1, 2, 3}) {
    REQUIRE(c.memberships[id].size() == 1);
    CHECK(find(c.memberships[id].back(), 10)->voter == false);
    CHECK(find(c.memberships[id].back(), 10)->context == Bytes{'c'});
  }
  CHECK(c.node(1).status().quorum.voters == 3);

  // The learner has not started: promoting it now is refused.
  CHECK(c.node(1).propose_conf_change(promote(10)).error().code == "raft.learner_not_ready");

  // It starts from the bootstrap membership plus its assigned x and replays the log from index 1.
  c.start(10, 4);
  CHECK_FALSE(c.node(10).status().voter);
  c.tick_all(3);
  CHECK(c.node(10).status().commit == c.node(1).status().commit);
  CHECK(c.node(10).membership() == c.node(1).committed_membership());
  // Its shares of entries written before it joined were computed from k holders: they rebuild values.
  const uint64_t first_value = 2;
  CHECK(c.rebuild(first_value, {10, 2}, 2) == c.rebuild(first_value, {1, 3}, 2));
  CHECK(c.node(1).stats().repaired_shares > 0);

  change(c, 1, promote(10));
  c.tick_all(1);
  CHECK(c.node(10).status().voter);
  CHECK(c.node(1).status().quorum.voters == 4);
  CHECK(c.node(1).status().quorum.commit_quorum == 3);  // ceil((4+2)/2)
  CHECK(c.node(1).propose_conf_change(promote(10)).error().code == "raft.not_learner");

  // With the new voter, W=3 of 4: two members alone no longer commit, three do.
  c.crash(2);
  c.crash(3);
  auto blocked = c.node(1).propose(bytes_of("put x"), {bytes_of("blocked-value-0123")});
  REQUIRE(blocked.ok());
  c.deliver();
  CHECK(c.node(1).status().commit < blocked->index);
  c.start(2);
  c.tick_all(3);
  CHECK(c.node(1).status().commit >= blocked->index);
}

TEST_CASE("restart rebuilds the membership from the log, including a joined member's own") {
  TestCluster c(3, 2);
  c.elect(1);
  change(c, 1, add_learner(10));
  c.start(10, 4);
  c.tick_all(3);
  change(c, 1, promote(10));
  c.tick_all(2);
  const Membership expected = c.node(1).committed_membership();
  for (MemberId id : {2, 10}) {
    c.crash(id);
    c.start(id);  // no self_x: the log says who it is
    CHECK(c.node(id).committed_membership() == expected);
    CHECK(c.node(id).status().voter);
    CHECK(c.node(id).status().x == (id == 10 ? 4 : 2));
  }
}

TEST_CASE(
    "removal: the removed member learns it, stops voting and campaigning; a removed leader steps down") {
  TestCluster c(5, 2);
  c.elect(1);
  write(c, 1, 2);
  change(c, 1, remove_member(5));
  c.tick_all(1);
  CHECK(c.node(5).removed_self());
  CHECK_FALSE(c.node(5).status().voter);
  CHECK(c.node(1).status().quorum.voters == 4);
  c.node(5).campaign();
  c.deliver();
  CHECK(c.node(5).status().role == Role::kFollower);

  // Removing the leader itself: it steps down once the removal is committed; the rest elect a leader.
  change(c, 1, remove_member(1));
  CHECK(c.node(1).status().role == Role::kFollower);
  CHECK(c.node(1).removed_self());
  c.tick_all(40);
  int leaders = 0;
  for (MemberId id : {2, 3, 4})
    if (c.node(id).status().role == Role::kLeader) ++leaders;
  CHECK(leaders == 1);
}

TEST_CASE("a removal that would leave a committed value with fewer than k voter holders is refused") {
  TestCluster c(5, 3, 3);  // n=5 k=3 W=3
  c.elect(1);
  c.crash(2);
  c.crash(3);
  write(c, 1, 2);  // committed on 1, 4 and 5 only
  auto r = c.node(1).propose_conf_change(remove_member(4));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "raft.too_few_holders");
  // k > remaining voters and W out of range are refused by apply_conf_change's rules.
  TestCluster small(3, 3);
  small.elect(1);
  CHECK(small.node(1).propose_conf_change(remove_member(3)).error().code == "raft.invalid_threshold");
  CHECK(small.node(2).propose_conf_change(add_learner(9)).error().code == "raft.not_leader");
  CHECK(small.node(1).propose_conf_change(add_learner(2)).error().code == "raft.member_exists");
}

TEST_CASE("leadership transfer: the transferee campaigns at once and wins despite the leader's lease") {
  TestCluster c(3, 2);
  c.elect(1);
  write(c, 1, 2);
  CHECK(c.node(1).transfer_leadership(1).ok());
  CHECK(c.node(2).transfer_leadership(3).error().code == "raft.not_leader");
  CHECK(c.node(1).transfer_leadership(77).error().code == "raft.unknown_member");
  change(c, 1, add_learner(10));
  CHECK(c.node(1).transfer_leadership(10).error().code == "raft.not_voter");

  const uint64_t term = c.node(1).status().term;
  REQUIRE(c.node(1).transfer_leadership(3).ok());
  CHECK(c.node(1).status().transferee == 3);
  CHECK(c.node(1).propose(bytes_of("put"), {bytes_of("during-transfer-0123")}).error().code ==
        "raft.transfer_in_progress");
  c.deliver();
  CHECK(c.node(3).status().role == Role::kLeader);
  CHECK(c.node(3).status().term == term + 1);
  CHECK(c.node(1).status().leader == 3);
  CHECK(c.node(1).status().transferee == kNoMember);
}

TEST_CASE("a transfer to an unreachable member is abandoned after an election timeout") {
  TestCluster c(3, 2);
  c.elect(1);
  c.crash(3);
  REQUIRE(c.node(1).transfer_leadership(3).ok());
  c.tick_all(5);
  CHECK(c.node(1).status().transferee == 3);
  c.tick_all(10);
  CHECK(c.node(1).status().transferee == kNoMember);
  CHECK(c.node(1).status().role == Role::kLeader);
  CHECK(c.node(1).propose(bytes_of("put"), {bytes_of("after-transfer-0123")}).ok());
}

TEST_CASE("a joining member follows a leader that joined after the bootstrap membership") {
  TestCluster c(3, 2);
  c.elect(1);
  change(c, 1, add_learner(10));
  c.start(10, 4);
  c.tick_all(3);
  change(c, 1, promote(10));
  c.tick_all(2);
  REQUIRE(c.node(1).transfer_leadership(10).ok());
  c.deliver();
  REQUIRE(c.node(10).status().role == Role::kLeader);
  c.tick_all(2);  // the new leader commits an entry of its term before it may change the membership

  // Member 11 starts from the bootstrap membership {1, 2, 3}: its leader (10) is not in it yet.
  auto p = c.node(10).propose_conf_change(add_learner(11));
  REQUIRE(p.ok());
  c.deliver();
  c.start(11, 5);
  c.tick_all(3);
  CHECK(c.node(11).status().leader == 10);
  CHECK(c.node(11).status().commit == c.node(10).status().commit);
  CHECK(c.node(11).committed_membership() == c.node(10).committed_membership());
  CHECK(c.node(11).status().x == 5);
}

TEST_CASE("after a leader removes itself and stops, the rest commit under the new configuration") {
  // n=3, k=2, default W=3: the old configuration needs every voter. The others hold the removal but never
  // hear that it committed; once the removed leader is gone, they must still make progress
  // (each index commits under the configuration at its position, section 9.3).
  TestCluster c(3, 2);
  c.elect(1);
  auto p = c.node(1).propose_conf_change(remove_member(1));
  REQUIRE(p.ok());
  c.deliver([&](const Message& m) { return !(m.from == 1 && m.commit >= p->index); });
  CHECK(c.node(1).removed_self());
  CHECK(c.node(1).status().role == Role::kFollower);
  CHECK(c.node(2).status().commit < p->index);
  CHECK(c.node(2).status().last_index >= p->index);
  c.crash(1);
  c.drop_messages();

  c.tick_all(40);
  MemberId leader = kNoMember;
  for (MemberId id : {2, 3})
    if (c.node(id).status().role == Role::kLeader) leader = id;
  REQUIRE(leader != kNoMember);
  auto w = c.node(leader).propose(bytes_of("put after"), {bytes_of("after-removal-0123")});
  REQUIRE(w.ok());
  c.deliver();
  CHECK(c.node(leader).status().commit >= w->index);
  CHECK(c.node(leader).committed_membership().members.size() == 2);
  CHECK(c.node(leader).status().quorum.commit_quorum == 2);
}

TEST_CASE("W = n and the leader lost for good: the new leader can still remove it (no deadlock)") {
  // 3 members, k = 2: W = 3, so no entry commits while one is down, not even the new leader's first.
  // Conf changes wait only until that entry is on a majority, so the dead member's removal (which commits
  // under the new configuration's W = 2) goes through, and writes resume.
  TestCluster c(3, 2);
  c.elect(1);
  write(c, 1, 3);
  c.crash(1);
  c.elect(2);
  REQUIRE(c.node(2).status().role == Role::kLeader);
  auto stuck = c.node(2).propose(bytes_of("put y"), {bytes_of("needs-three-holders-0123")});
  REQUIRE(stuck.ok());
  c.deliver();
  CHECK(c.node(2).status().commit < stuck->index);  // W = 3 of {1, 2, 3} with 1 down

  change(c, 2, remove_member(1));
  c.tick_all(2);
  CHECK(c.node(2).status().quorum.voters == 2);
  CHECK(c.node(2).status().commit >= stuck->index);  // committed with the removal (prefix)
  write(c, 2, 2);
  CHECK(c.node(2).status().commit == c.node(3).status().commit);
}

TEST_CASE("match_of: the leader's view of how far each member holds its log; 0 elsewhere") {
  TestCluster c(3, 2);
  c.elect(1);
  write(c, 1, 3);
  const uint64_t last = c.node(1).status().commit;
  CHECK(c.node(1).match_of(2) == last);
  c.crash(3);
  write(c, 1, 1);
  CHECK(c.node(1).match_of(2) == last + 1);
  CHECK(c.node(1).match_of(3) == last);  // it missed the last write
  CHECK(c.node(2).match_of(1) == 0);     // not the leader
  CHECK(c.node(1).match_of(42) == 0);    // not a member
}
