// Log compaction and share-repair snapshots in the Raft core (docs/protocol.md 9.6): the leader asks
// its host for a repair stream when a member needs compacted entries, pauses appends to it, resumes
// after report_snapshot; a repaired member restores from the snapshot's metadata.
#include <doctest/doctest.h>

#include <map>

#include "tests/test_cluster.h"

using namespace etsecd::raft;
using namespace etsecd::raft::testing;

namespace {

// What a host does once its KV store made `index` durable.
void compact(TestCluster& c, MemberId id, uint64_t index) {
  REQUIRE(c.storage(id).compact(index, c.node(id).membership_at(index)).ok());
}

// Snapshot requests the leader made since the last call.
std::vector<SnapshotRequest> requests_of(TestCluster& c, MemberId leader) {
  c.process(leader);
  std::vector<SnapshotRequest> out = std::move(c.snapshot_requests[leader]);
  c.snapshot_requests[leader].clear();
  return out;
}

// The repair stream's end on the member's side: storage and core start after the leader's index A.
SnapshotMeta install(TestCluster& c, MemberId leader, MemberId target) {
  const uint64_t a = c.node(leader).status().applied;
  SnapshotMeta meta{a, *c.storage(leader).term(a), c.node(leader).membership_at(a)};
  c.storage(target).install_snapshot(meta);
  REQUIRE(c.node(target).restore(meta).ok());
  return meta;
}

// Snapshot requests the leader makes over 10 ticks of `members` (delivering messages), per target.
std::map<MemberId, unsigned> requests_over_ticks(TestCluster& c, MemberId leader,
                                                 std::initializer_list<MemberId> members) {
  std::map<MemberId, unsigned> requests;
  for (int t = 0; t < 10; ++t) {
    for (MemberId id : members) c.node(id).tick();
    for (const SnapshotRequest& r : requests_of(c, leader)) ++requests[r.to];
    c.deliver();
  }
  return requests;
}

// Each lagging member installs the leader's snapshot and the leader hears of it; after one more write
// they all have the leader's commit index, which is returned.
uint64_t catch_up_by_snapshot(TestCluster& c, MemberId leader, std::initializer_list<MemberId> lagging) {
  for (MemberId id : lagging) {
    const SnapshotMeta meta = install(c, leader, id);
    c.node(leader).report_snapshot(id, meta.index, true);
  }
  write(c, leader, 1);
  const uint64_t commit = c.node(leader).status().commit;
  for (MemberId id : lagging) CHECK(c.node(id).status().commit == commit);
  return commit;
}

// Member 3 misses everything while the others write and compact.
struct LaggingCluster {
  TestCluster c{3, 2, 2};
  uint64_t compacted = 0;
  LaggingCluster() {
    c.elect(1);
    write(c, 1, 2);
    c.crash(3);
    write(c, 1, 5);
    compacted = c.node(1).status().applied;
    compact(c, 1, compacted);
    compact(c, 2, compacted);
    std::erase_if(c.outbox, [](const Message& m) { return m.to == 3; });  // lost while it was down
    c.start(3);
  }
};

}  // namespace

TEST_CASE("a compacted log keeps working: entries before it are raft.compacted, new writes commit") {
  TestCluster c(3, 2);
  c.elect(1);
  write(c, 1, 4);
  const uint64_t a = c.node(1).status().applied;
  for (MemberId id : {1, 2, 3}) compact(c, id, a);
  CHECK(c.storage(2).entries(a - 1, a, 1 << 20).error().code == "raft.compacted");
  CHECK(c.storage(2).snapshot_meta().membership == c.node(2).committed_membership());
  write(c, 1, 2);
  for (MemberId id : {1, 2, 3}) CHECK(c.node(id).status().commit == a + 2);
  // A restart starts from the snapshot.
  c.crash(2);
  c.start(2);
  c.elect(2);
  write(c, 2, 1);
  CHECK(c.node(3).status().commit == a + 4);  // + the new leader's no-op
}

TEST_CASE("membership_at gives the configuration of a log prefix, conf changes included") {
  TestCluster c(3, 2);
  c.elect(1);
  write(c, 1, 2);
  const Membership before = c.node(1).committed_membership();
  auto p = c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddLearner, 9, 0, {}});
  REQUIRE(p.ok());
  c.deliver();
  CHECK(c.node(1).membership_at(p->index - 1) == before);
  CHECK(c.node(1).membership_at(p->index) == c.node(1).committed_membership());
  CHECK(c.node(2).membership_at(p->index + 5) == c.node(2).committed_membership());
  // After compaction past the change and a restart, the snapshot's membership is the base.
  compact(c, 2, p->index);
  c.crash(2);
  c.start(2);
  CHECK(c.node(2).membership_at(1) == c.node(2).committed_membership());
}

TEST_CASE("a member needing compacted entries gets one snapshot request; report_snapshot resumes it") {
  LaggingCluster l;
  TestCluster& c = l.c;
  c.tick_all(3);
  const auto reqs = requests_of(c, 1);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].to == 3);
  CHECK(reqs[0].x == 3);
  CHECK(c.node(1).stats().snapshot_requests == 1);

  // Appends to it pause, heartbeats go on, and it is not asked again within a few heartbeats.
  for (int t = 0; t < 5; ++t) {
    c.node(1).tick();
    CHECK(requests_of(c, 1).empty());
    bool append_to_3 = false;
    bool heartbeat_to_3 = false;
    for (const Message& m : c.outbox) {
      if (m.to == 3 && m.type == MessageType::kAppend && !m.entries.empty()) append_to_3 = true;
      if (m.to == 3 && m.type == MessageType::kHeartbeat) heartbeat_to_3 = true;
    }
    CHECK_FALSE(append_to_3);
    CHECK(heartbeat_to_3);
    c.deliver();
  }

  // A failure report: a new request follows at the next heartbeat interval.
  c.node(1).report_snapshot(3, 0, false);
  CHECK(requests_of(c, 1).empty());
  c.tick_all(1);
  CHECK(requests_of(c, 1).size() == 1);

  // The stream succeeds: member 3 restores at the leader's applied index and catches up from there.
  const SnapshotMeta meta = install(c, 1, 3);
  CHECK(c.node(3).status().commit == meta.index);
  CHECK(c.node(3).status().applied == meta.index);
  c.node(1).report_snapshot(3, meta.index, true);
  c.deliver();
  write(c, 1, 2);
  CHECK(c.node(3).status().commit == c.node(1).status().commit);
  CHECK(c.rebuild(c.node(1).status().commit, {3, 2}, 2) == c.rebuild(c.node(1).status().commit, {1, 2}, 2));
  // A late duplicate report changes nothing.
  const uint64_t reported = c.node(1).stats().snapshots_reported;
  c.node(1).report_snapshot(3, meta.index, true);
  CHECK(c.node(1).stats().snapshots_reported == reported);
}

TEST_CASE("an unanswered snapshot request is repeated after 10 election timeouts") {
  LaggingCluster l;
  TestCluster& c = l.c;
  unsigned requests = 0;
  for (int t = 0; t < 10 * 10 + 5; ++t) {
    for (MemberId id : {1, 2, 3}) c.node(id).tick();
    requests += static_cast<unsigned>(requests_of(c, 1).size());
    c.deliver();
    if (t < 50) CHECK(requests <= 1);
  }
  CHECK(requests == 2);
}

TEST_CASE("a report from an earlier leadership is ignored") {
  LaggingCluster l;
  TestCluster& c = l.c;
  c.tick_all(3);
  REQUIRE(c.node(1).stats().snapshot_requests >= 1);
  c.elect(2);
  const uint64_t applied = c.node(2).status().applied;
  c.node(1).report_snapshot(3, applied, true);  // the old leader: no longer leads
  CHECK(c.node(1).stats().snapshots_reported == 0);
  // The new leader asked for its own stream; a report beyond its log is not about its log.
  REQUIRE(c.node(2).stats().snapshot_requests == 1);
  c.node(2).report_snapshot(3, c.node(2).status().last_index + 1, true);
  CHECK(c.node(2).stats().snapshots_reported == 0);
  // Nor is a report for a member that is not waiting for one.
  c.node(2).report_snapshot(1, applied, true);
  CHECK(c.node(2).stats().snapshots_reported == 0);
}

TEST_CASE("restore refuses a stale or uninstalled snapshot, then starts the log after it") {
  LaggingCluster l;
  TestCluster& c = l.c;
  const uint64_t a = c.node(1).status().applied;
  SnapshotMeta meta{a, *c.storage(1).term(a), c.node(1).membership_at(a)};
  CHECK(c.node(3).restore(meta).error().code == "raft.snapshot_not_installed");
  CHECK(c.node(3).check_restore(meta).ok());
  CHECK(c.node(2).check_restore(meta).error().code == "raft.snapshot_stale");  // committed it already
  {
    // A member that holds (A, term) but has not learned the commit yet must not be wiped either.
    TestCluster d(3, 2, 2);
    d.elect(1);
    write(d, 1, 1);
    const uint64_t last = d.node(1).status().last_index;
    auto p = d.node(1).propose(bytes_of("put x"), {bytes_of("value-x-0123456789")});
    REQUIRE(p.ok());
    d.process(1);
    d.deliver([](const Message& m) { return m.to == 2 && m.type == MessageType::kAppend; });
    REQUIRE(d.node(2).status().last_index == last + 1);
    REQUIRE(d.node(2).status().commit <= last);
    CHECK(d.node(2)
              .check_restore(SnapshotMeta{last + 1, p->term, d.node(1).membership_at(last + 1)})
              .error()
              .code == "raft.snapshot_stale");
  }
  const uint64_t c2 = c.node(2).status().commit;
  SnapshotMeta stale{c2, *c.storage(2).term(c2), c.node(2).membership_at(c2)};
  CHECK(c.node(2).restore(stale).error().code == "raft.snapshot_stale");
  c.storage(3).install_snapshot(meta);
  REQUIRE(c.node(3).restore(meta).ok());
  CHECK(c.node(3).status().last_index == a);
  CHECK(c.node(3).restore(meta).error().code == "raft.snapshot_stale");
  c.process(3);
  REQUIRE(!c.memberships[3].empty());
  CHECK(c.memberships[3].back() == meta.membership);
  CHECK(c.storage(3).hard_state().commit == a);
}

TEST_CASE("when followers compacted entries a lagging member needs, the leader asks for a snapshot") {
  TestCluster c(3, 2, 2);
  c.elect(1);
  write(c, 1, 2);
  c.crash(3);
  write(c, 1, 4);
  // The leader keeps its log, but the only other holder compacted, and a restart emptied the
  // leader's share cache: k=2 shares of member 3's share cannot be gathered any more.
  compact(c, 2, c.node(2).status().applied);
  c.crash(1);
  c.start(1);
  std::erase_if(c.outbox, [](const Message& m) { return m.to == 3; });
  c.elect(1);
  c.start(3);
  CHECK(requests_over_ticks(c, 1, {1, 2, 3}) == std::map<MemberId, unsigned>{{3, 1}});
  catch_up_by_snapshot(c, 1, {3});
}

// Simulator seed 103004 (7 members, k=4): two lagging members each counted the other as a future
// source of a committed entry's shares, so the leader fetched forever instead of asking for a snapshot.
// A member known to lack the entry can get it only from the leader, which first needs k shares.
TEST_CASE("members known to lack a committed entry are no source of its shares: both get a snapshot") {
  TestCluster c(5, 3, 3);
  c.elect(1);
  write(c, 1, 2);
  c.crash(4);
  c.crash(5);
  write(c, 1, 4);
  // Besides the leader only member 3 still stores the new entries (member 2 compacted them), and a
  // restart emptied the leader's share cache: 2 of k=3 shares. Counting member 5 for member 4 (and 4
  // for 5) would make 3.
  compact(c, 2, c.node(2).status().applied);
  c.crash(1);
  c.start(1);
  c.elect(1);
  c.start(4);
  c.start(5);
  const auto requests = requests_over_ticks(c, 1, {1, 2, 3, 4, 5});
  CHECK(requests.at(4) == 1);
  CHECK(requests.at(5) == 1);
  const uint64_t commit = catch_up_by_snapshot(c, 1, {4, 5});
  CHECK(c.rebuild(commit, {4, 5, 3}, 3) == c.rebuild(commit, {1, 2, 3}, 3));
}

// Simulator seed 123426 (7 members, k=3): the leader counted its own share of a committed entry as a
// source although it was corrupt, so it fetched forever from too few intact holders. A corrupt share
// is repaired only from k intact ones, so it is no source either.
TEST_CASE("a corrupt share is no source of a committed entry's shares: the lagging member gets a snapshot") {
  TestCluster c(5, 3, 3);
  c.elect(1);
  write(c, 1, 2);
  c.crash(4);
  const uint64_t first_missed = c.node(1).status().last_index + 1;
  write(c, 1, 3);
  // Members 3 and 5 store intact shares, member 2 compacted, and the leader's own share is corrupt
  // (a restart emptied its cache): 2 intact sources of k=3, but 3 if its own share counted.
  compact(c, 2, c.node(2).status().applied);
  auto& entries = c.storage(1).mutable_entries_for_testing();
  entries[first_missed - c.storage(1).first_index()].shares[0][8] ^= 0x5a;
  c.crash(1);
  c.start(1);
  c.elect(1);
  std::erase_if(c.outbox, [](const Message& m) { return m.to == 4; });
  c.start(4);
  CHECK(requests_over_ticks(c, 1, {1, 2, 3, 4, 5}).at(4) == 1);
  const uint64_t commit = catch_up_by_snapshot(c, 1, {4});
  CHECK(c.rebuild(commit, {4, 3, 5}, 3) == c.rebuild(commit, {1, 2, 3}, 3));
}

TEST_CASE("a restored former leader reports its own proposals below the snapshot as dropped") {
  TestCluster c(3, 2, 2);
  c.elect(1);
  write(c, 1, 1);
  // Member 1 proposes, but is cut off before anyone sees it; 2 and 3 elect 2 and move on.
  auto lost = c.node(1).propose(bytes_of("put lost"), {bytes_of("value-lost-0123456789")});
  REQUIRE(lost.ok());
  c.process(1);
  c.drop_messages();
  auto without_1 = [](const Message& m) { return m.to != 1 && m.from != 1; };
  for (int t = 0; t < 10; ++t) {
    c.node(2).tick();
    c.node(3).tick();
    c.process_all();
    c.drop_messages();
  }
  c.node(2).campaign();
  c.deliver(without_1);
  REQUIRE(c.node(2).status().role == Role::kLeader);
  for (int i = 0; i < 3; ++i)
    REQUIRE(
        c.node(2).propose(bytes_of("put " + std::to_string(i)), {bytes_of("value-after-0123456789")}).ok());
  c.deliver(without_1);
  const uint64_t a = c.node(2).status().applied;
  REQUIRE(a > lost->index);
  compact(c, 2, a);
  compact(c, 3, a);

  const SnapshotMeta meta{a, *c.storage(2).term(a), c.node(2).membership_at(a)};
  REQUIRE(c.node(1).check_restore(meta).ok());  // its entry at lost->index is not the committed one
  c.storage(1).install_snapshot(meta);
  REQUIRE(c.node(1).restore(meta).ok());
  CHECK(c.node(1).status().role == Role::kFollower);
  c.process(1);
  REQUIRE(c.dropped[1].size() == 1);
  CHECK(c.dropped[1][0] == *lost);
}
