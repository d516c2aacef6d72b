// The crux: a new leader holds only its own share of its uncommitted suffix. These tests build each
// case by hand: the old leader's value reached fewer than k members, k..W-1 members, or W members.
#include <doctest/doctest.h>

#include "tests/test_cluster.h"

using namespace etsecd::raft;
using namespace etsecd::raft::testing;

namespace {

// Leader 1 proposes `value`; only members in `reach` persist it; then leader 1 dies.
ProposalId propose_then_die(TestCluster& c, const Bytes& value, std::vector<MemberId> reach) {
  auto id = c.node(1).propose(bytes_of("put k"), {value});
  REQUIRE(id.ok());
  c.process(1);
  c.deliver([&](const Message& m) {
    if (m.type != MessageType::kAppend) return false;
    return std::find(reach.begin(), reach.end(), m.to) != reach.end();
  });
  c.crash(1);
  c.drop_messages();
  return *id;
}

}  // namespace

TEST_CASE("k..W-1 holders: the new leader rebuilds the other members' shares and commits the value") {
  TestCluster c(5, 2);  // W = 4
  c.elect(1);
  const Bytes value = bytes_of("value-reached-two-followers");
  ProposalId id = propose_then_die(c, value, {2, 3});  // holders 1, 2, 3: 3 < W, not committed
  c.elect(2);
  const NodeStats& st = c.node(2).stats();
  CHECK(st.recovery_rebuilt_shares >= 2);  // for members 4 and 5
  CHECK(st.recovery_drop_events == 0);
  CHECK(c.node(2).status().commit > id.index);
  CHECK(c.rebuild(id.index, {4, 5}, 2) == std::vector<Bytes>{value});
  CHECK(c.rebuild(id.index, {3, 5}, 2) == std::vector<Bytes>{value});
}

TEST_CASE("fewer than k holders and provably uncommitted: the entry is dropped") {
  TestCluster c(5, 3);  // W = 4
  c.elect(1);
  ProposalId id = propose_then_die(c, bytes_of("value-reached-one-follower"), {2});
  c.elect(2);
  const NodeStats& st = c.node(2).stats();
  CHECK(st.recovery_drop_events == 1);
  CHECK(st.recovery_dropped_entries == 1);
  auto t = c.storage(2).term(id.index);
  REQUIRE(t.ok());
  CHECK(*t == c.node(2).status().term);  // replaced by the new leader's no-op
  CHECK(c.node(2).propose(bytes_of("put k2"), {bytes_of("next-value-0123456")}).ok());
}

TEST_CASE("possibly committed: the new leader waits rather than guesses, then resolves") {
  SUBCASE("a holder returns: the entry is kept and rebuilt") {
    TestCluster c(5, 3);  // W = 4
    c.elect(1);
    const Bytes value = bytes_of("value-reached-two-followers");
    ProposalId id = propose_then_die(c, value, {2, 3});  // holders 1, 2, 3
    c.crash(5);
    c.elect(2);  // votes from 3 and 4; known holders 2, 3 < k; possible = 5 - {4} = 4 >= W
    CHECK(c.node(2).status().recovering);
    CHECK(c.node(2).stats().recovery_waits == 1);
    auto refused = c.node(2).propose(bytes_of("put x"), {bytes_of("v-0123456789abcdef")});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "raft.leader_recovering");
    c.start(1);  // the old leader returns as a follower holding its share
    c.tick_all(3);
    CHECK_FALSE(c.node(2).status().recovering);
    CHECK(c.node(2).status().commit > id.index);
    CHECK(c.rebuild(id.index, {2, 4, 1}, 3) == std::vector<Bytes>{value});
  }
  SUBCASE("a non-holder returns: the entry is provably uncommitted and dropped") {
    TestCluster c(5, 3);
    c.elect(1);
    ProposalId id = propose_then_die(c, bytes_of("value-reached-two-followers"), {2, 3});
    c.crash(5);
    c.elect(2);
    CHECK(c.node(2).status().recovering);
    c.start(5);  // lacks the entry: possible = 5 - {4, 5} = 3 < W
    c.tick_all(3);
    CHECK_FALSE(c.node(2).status().recovering);
    CHECK(c.node(2).stats().recovery_drop_events == 1);
    CHECK(*c.storage(2).term(id.index) == c.node(2).status().term);
  }
}

TEST_CASE("W holders (possibly committed): the entry is always kept") {
  TestCluster c(5, 3);  // W = 4
  c.elect(1);
  const Bytes value = bytes_of("value-reached-three-followers");
  ProposalId id = propose_then_die(c, value, {2, 3, 4});
  c.elect(2);
  CHECK(c.node(2).stats().recovery_drop_events == 0);
  CHECK(c.node(2).status().commit > id.index);
  CHECK(c.rebuild(id.index, {5, 2, 3}, 3) == std::vector<Bytes>{value});
}

TEST_CASE("a follower behind an evicted share cache gets shares rebuilt from k holders") {
  TestCluster c(3, 2);  // W = 3
  c.elect(1);
  c.crash(3);
  std::vector<std::pair<ProposalId, Bytes>> written;
  for (int i = 0; i < 20; ++i) {
    Bytes v = bytes_of("value-number-" + std::to_string(100 + i));
    auto id = c.node(1).propose(bytes_of("put k"), {v});
    if (!id.ok()) break;  // back-pressure: too many values not yet on k members
    written.emplace_back(*id, v);
    c.deliver();
  }
  REQUIRE(written.size() >= 10);
  c.start(3);
  c.tick_all(5);
  for (auto& [id, v] : written) CHECK(c.rebuild(id.index, {3, 1}, 2) == std::vector<Bytes>{v});
}

TEST_CASE("a corrupt stored share is reported without bytes and rebuilt from k good ones") {
  TestCluster c(3, 2);
  c.elect(1);
  const Bytes value = bytes_of("value-to-be-corrupted-later");
  auto id = c.node(1).propose(bytes_of("put k"), {value});
  REQUIRE(id.ok());
  c.deliver();
  auto& entries = c.storage(2).mutable_entries_for_testing();
  Bytes& share = entries[id->index - c.storage(2).first_index()].shares[0];
  const Bytes good = share;
  share[8] ^= 0x5a;
  // A share fetch reads the stored share, finds the bad checksum and reports it.
  Message fetch;
  fetch.type = MessageType::kShareFetch;
  fetch.from = 1;
  fetch.to = 2;
  fetch.term = c.node(1).status().term;
  fetch.index = id->index;
  fetch.fetch_last = id->index;
  REQUIRE(c.node(2).step(fetch).ok());
  c.process(2);
  REQUIRE(c.corrupt[2].size() == 1);
  CHECK(c.corrupt[2][0] == CorruptShare{id->index, id->term, 0});
  c.tick_all(3);
  CHECK(c.storage(2).entries(id->index, id->index + 1, 0)->front().shares[0] == good);
}
