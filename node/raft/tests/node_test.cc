// Elections, the commit rule, share distribution and reads of the Raft core.
#include <doctest/doctest.h>

#include "tests/test_cluster.h"

using namespace etsecd::raft;
using namespace etsecd::raft::testing;

namespace {
bool is_append_to(const Message& m, MemberId to) { return m.type == MessageType::kAppend && m.to == to; }
}  // namespace

TEST_CASE("a candidate with a majority becomes leader and commits a no-op of its term") {
  TestCluster c(3, 2);
  c.elect(1);
  CHECK(c.node(1).status().term == 1);
  CHECK(c.node(2).status().leader == 1);
  CHECK(c.node(1).status().commit == 1);
  REQUIRE(c.applied[1].size() == 1);
  CHECK(c.applied[1][0].type == EntryType::kNoOp);
  CHECK(c.node(1).stats().leaderships == 1);
}

TEST_CASE("no election without a majority; pre-vote keeps the isolated member's term") {
  TestCluster c(5, 3);
  c.crash(2);
  c.crash(3);
  c.crash(4);
  for (int i = 0; i < 5; ++i) {
    c.node(1).campaign();
    c.deliver();
  }
  CHECK(c.node(1).status().role != Role::kLeader);
  CHECK(c.node(1).status().term == 0);  // pre-votes failed, so the term never moved
}

TEST_CASE("randomised election timeouts elect exactly one leader") {
  TestCluster c(5, 3);
  c.tick_all(40);
  int leaders = 0;
  for (MemberId id = 1; id <= 5; ++id) leaders += c.node(id).status().role == Role::kLeader;
  CHECK(leaders == 1);
}

TEST_CASE("a voter refuses a candidate whose log is behind") {
  TestCluster c(3, 2);
  c.elect(1);
  c.crash(3);
  REQUIRE(c.node(1).propose(bytes_of("put a"), {bytes_of("value-aaaaaaaaaaaaaa")}).ok());
  c.deliver();
  c.crash(1);
  c.start(3);  // 3 missed the last entry
  c.node(3).campaign();
  c.deliver();
  CHECK(c.node(3).status().role != Role::kLeader);
  c.node(2).campaign();
  c.deliver();
  CHECK(c.node(2).status().role == Role::kLeader);
}

TEST_CASE("each follower receives only its own share, and k of them rebuild the value") {
  TestCluster c(5, 3);
  c.elect(1);
  const Bytes value = bytes_of("0123456789abcdef-secret");
  auto id = c.node(1).propose(bytes_of("put k1"), {value});
  REQUIRE(id.ok());
  c.process(1);
  int appends = 0;
  for (const Message& m : c.outbox) {
    if (m.type != MessageType::kAppend) continue;
    for (const Entry& e : m.entries) {
      for (const Bytes& s : e.shares) {
        auto d = ref_decode(s);
        REQUIRE(d.has_value());
        CHECK(d->share.x == m.to);  // x = 1-based position = id in this cluster
        CHECK(s != value);
        ++appends;
      }
    }
  }
  CHECK(appends == 4);
  c.deliver();
  CHECK(c.node(1).status().commit == id->index);
  CHECK(c.rebuild(id->index, {2, 4, 5}, 3) == std::vector<Bytes>{value});
  CHECK(c.rebuild(id->index, {1, 3, 5}, 3) == std::vector<Bytes>{value});
  // Two shares are not the value.
  auto two = c.rebuild(id->index, {1, 2}, 2);
  CHECK(two[0] != value);
}

TEST_CASE("an entry commits only once W voters persisted it") {
  TestCluster c(5, 3);  // W = 4
  c.elect(1);
  auto id = c.node(1).propose(bytes_of("put k"), {bytes_of("some-value-1234567")});
  REQUIRE(id.ok());
  c.deliver([](const Message& m) {
    return is_append_to(m, 2) || is_append_to(m, 3) || m.type == MessageType::kAppendResp;
  });
  CHECK(c.node(1).status().commit < id->index);  // 3 holders < W
  c.deliver([](const Message& m) { return is_append_to(m, 4) || m.type == MessageType::kAppendResp; });
  CHECK(c.node(1).status().commit == id->index);
}

TEST_CASE("a lowered W commits with fewer holders") {
  TestCluster c(5, 3, 3);
  c.elect(1);
  auto id = c.node(1).propose(bytes_of("put k"), {bytes_of("some-value-1234567")});
  REQUIRE(id.ok());
  c.deliver([](const Message& m) {
    return is_append_to(m, 2) || is_append_to(m, 3) || m.type == MessageType::kAppendResp;
  });
  CHECK(c.node(1).status().commit == id->index);
}

TEST_CASE("proposals and reads are refused on followers with a clear error") {
  TestCluster c(3, 2);
  c.elect(1);
  auto r = c.node(2).propose(bytes_of("put k"), {bytes_of("v-0123456789abcdef")});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "raft.not_leader");
  CHECK(c.node(2).read_index(bytes_of("ctx")).error().code == "raft.not_leader");
}

TEST_CASE("read index is confirmed by a majority of heartbeats") {
  TestCluster c(5, 3);
  c.elect(1);
  REQUIRE(c.node(1).read_index(bytes_of("r1")).ok());
  c.deliver([](const Message& m) { return (m.to == 2 || m.from == 2) && m.type != MessageType::kAppend; });
  c.process(1);
  CHECK(c.read_states[1].empty());  // leader + 1 ack < 3
  c.deliver();
  REQUIRE(c.read_states[1].size() == 1);
  CHECK(c.read_states[1][0].index == c.node(1).status().commit);
  CHECK(c.read_states[1][0].context == bytes_of("r1"));
}

TEST_CASE("read index can be confirmed by acknowledgements the host collected") {
  TestCluster c(5, 3);
  c.elect(1);
  REQUIRE(c.node(1).read_index(bytes_of("r2"), /*send_heartbeats=*/false).ok());
  c.node(1).ack_leadership(2, c.node(1).status().term, bytes_of("r2"));
  c.node(1).ack_leadership(3, c.node(1).status().term - 1, bytes_of("r2"));  // stale term: ignored
  c.process(1);
  CHECK(c.read_states[1].empty());
  c.node(1).ack_leadership(4, c.node(1).status().term, bytes_of("r2"));
  c.process(1);
  REQUIRE(c.read_states[1].size() == 1);
}

TEST_CASE("a leader that loses its majority steps down (CheckQuorum)") {
  TestCluster c(3, 2);
  c.elect(1);
  c.crash(2);
  c.crash(3);
  for (int t = 0; t < 25; ++t) {
    c.node(1).tick();
    c.process(1);
    c.drop_messages();
  }
  CHECK(c.node(1).status().role == Role::kFollower);
}

TEST_CASE("configuration errors are reported") {
  MemoryStorage storage;
  ReferenceSecretSharer sharer;
  TestRandom rng(1);
  Config cfg;
  cfg.id = 9;
  cfg.initial_membership = *initial_membership({1, 2, 3}, 2, 0);
  auto n = Node::create(cfg, storage, sharer, rng);
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().code == "raft.invalid_membership");
  cfg.id = 1;
  cfg.election_tick = 1;
  CHECK(Node::create(cfg, storage, sharer, rng).error().code == "raft.invalid_config");
  cfg.election_tick = 10;
  cfg.initial_membership.threshold = 4;
  CHECK(Node::create(cfg, storage, sharer, rng).error().code == "raft.invalid_threshold");
  cfg.initial_membership.threshold = 2;
  cfg.initial_membership.commit_quorum_override = 1;
  CHECK(Node::create(cfg, storage, sharer, rng).error().code == "raft.invalid_commit_quorum");
}

TEST_CASE("messages from unknown members are refused, except a leader's") {
  // A member that missed the conf changes adding the current leader learns about it only from that
  // leader's appends, so leader messages are taken from anyone (the host authenticated the peer);
  // votes and answers from unknown members are refused.
  TestCluster c(3, 2);
  Message m;
  m.type = MessageType::kVote;
  m.from = 42;
  m.to = 1;
  m.term = 5;
  CHECK(c.node(1).step(m).error().code == "raft.unknown_member");
  CHECK(c.node(1).status().term == 0);
}

TEST_CASE("a restarted member keeps its log and term") {
  TestCluster c(3, 2);
  c.elect(1);
  auto id = c.node(1).propose(bytes_of("put k"), {bytes_of("v-0123456789abcdef")});
  REQUIRE(id.ok());
  c.deliver();
  c.crash(2);
  c.start(2);
  CHECK(c.node(2).status().term == 1);
  CHECK(c.node(2).status().last_index == id->index);
}
