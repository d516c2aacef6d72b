#pragma once
// A hand-driven cluster for unit tests: every message waits in `outbox` until the test delivers (or
// drops) it, so a test can build exact interleavings such as "the leader's append reached only B".

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "etsecd/raft/node.h"
#include "tests/reference_secret_sharer.h"
#include "tests/reference_shamir.h"
#include "tests/test_random.h"

namespace etsecd::raft::testing {

class TestCluster {
 public:
  TestCluster(unsigned n, unsigned k, unsigned w = 0, uint64_t seed = 7) : rng_(seed) {
    std::vector<MemberId> ids;
    for (unsigned i = 1; i <= n; ++i) ids.push_back(i);
    auto m = initial_membership(ids, k, w);
    REQUIRE(m.ok());
    config_.initial_membership = *m;
    for (MemberId id : ids) {
      storage_[id] = std::make_unique<MemoryStorage>();
      start(id);
    }
  }

  Node& node(MemberId id) { return *nodes_.at(id); }
  MemoryStorage& storage(MemberId id) { return *storage_.at(id); }
  bool up(MemberId id) const { return nodes_.count(id) > 0; }

  // `self_x`: for a member that joins after the bootstrap (its AddLearner assigned it).
  void start(MemberId id, uint8_t self_x = 0) {
    if (!storage_.count(id)) storage_[id] = std::make_unique<MemoryStorage>();
    rngs_[id] = std::make_unique<TestRandom>(rng_.next());
    Config c = config_;
    c.id = id;
    c.self_x = self_x;
    auto n = Node::create(c, *storage_.at(id), sharer_, *rngs_[id]);
    REQUIRE(n.ok());
    nodes_[id] = std::move(*n);
  }
  void crash(MemberId id) {
    nodes_.erase(id);
    std::erase_if(outbox, [id](const Message& m) { return m.to == id || m.from == id; });
  }

  // The host loop: persist, then queue messages, then apply.
  void process(MemberId id) {
    Node& n = node(id);
    while (n.has_ready()) {
      Ready rd = n.ready();
      if (rd.hard_state) storage(id).set_hard_state(*rd.hard_state);
      if (!rd.entries.empty()) REQUIRE(storage(id).append(rd.entries).ok());
      for (const ShareRepair& r : rd.share_repairs)
        REQUIRE(storage(id).replace_share(r.index, r.term, r.value, r.share).ok());
      for (Message& m : rd.messages) outbox.push_back(std::move(m));
      for (Entry& e : rd.committed_entries) applied[id].push_back(e);
      for (ReadState& r : rd.read_states) read_states[id].push_back(r);
      for (ProposalId& p : rd.dropped_proposals) dropped[id].push_back(p);
      for (CorruptShare& c : rd.corrupt_shares) corrupt[id].push_back(c);
      if (rd.membership) memberships[id].push_back(*rd.membership);
      for (SnapshotRequest& r : rd.snapshot_requests) snapshot_requests[id].push_back(r);
      n.advance(rd);
    }
  }
  void process_all() {
    for (auto& [id, n] : nodes_) process(id);
  }

  // Delivers queued messages matching `filter` (others stay queued) until none match.
  void deliver(const std::function<bool(const Message&)>& filter = {}) {
    for (int round = 0; round < 1000; ++round) {
      process_all();
      std::vector<Message> now;
      std::vector<Message> keep;
      for (Message& m : outbox) ((!filter || filter(m)) && up(m.to) ? now : keep).push_back(std::move(m));
      outbox = std::move(keep);
      if (now.empty()) return;
      for (const Message& m : now) (void)node(m.to).step(m);
    }
    FAIL("messages kept flowing");
  }
  void drop_messages() { outbox.clear(); }

  // Makes `id` leader: leases from any earlier leader expire (CheckQuorum followers ignore
  // candidates while they hear from a leader), then it campaigns and every message is delivered.
  void elect(MemberId id) {
    for (unsigned t = 0; t < 10; ++t) {
      for (auto& [mid, n] : nodes_) n->tick();
      process_all();
      drop_messages();
    }
    node(id).campaign();
    deliver();
    REQUIRE(node(id).status().role == Role::kLeader);
  }

  void tick_all(unsigned times) {
    for (unsigned t = 0; t < times; ++t) {
      for (auto& [id, n] : nodes_) n->tick();
      deliver();
    }
  }

  // The value of entry `index` rebuilt from the stored shares of `members` (first k used).
  std::vector<Bytes> rebuild(uint64_t index, const std::vector<MemberId>& members, unsigned k) {
    std::vector<Bytes> values;
    std::vector<Entry> entries;
    for (MemberId id : members) entries.push_back(storage(id).entries(index, index + 1, 0)->front());
    for (size_t v = 0; v < entries[0].shares.size(); ++v) {
      std::vector<Bytes> shares;
      for (const Entry& e : entries) shares.push_back(e.shares[v]);
      auto value = ref_combine_encoded(shares, k);
      REQUIRE(value.has_value());
      values.push_back(*value);
    }
    return values;
  }

  std::vector<Message> outbox;
  std::map<MemberId, std::vector<Entry>> applied;
  std::map<MemberId, std::vector<ReadState>> read_states;
  std::map<MemberId, std::vector<ProposalId>> dropped;
  std::map<MemberId, std::vector<CorruptShare>> corrupt;
  std::map<MemberId, std::vector<Membership>> memberships;  // Ready::membership, in order
  std::map<MemberId, std::vector<SnapshotRequest>> snapshot_requests;

 private:
  TestRandom rng_;
  ReferenceSecretSharer sharer_;
  Config config_;
  std::map<MemberId, std::unique_ptr<MemoryStorage>> storage_;
  std::map<MemberId, std::unique_ptr<TestRandom>> rngs_;
  std::map<MemberId, std::unique_ptr<Node>> nodes_;
};

inline Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// `count` puts with one value each through `leader`, then delivers everything.
inline void write(TestCluster& c, MemberId leader, int count) {
  for (int i = 0; i < count; ++i) {
    auto id = c.node(leader).propose(bytes_of("put " + std::to_string(i)),
                                     {bytes_of("value-" + std::to_string(i) + "-0123456789")});
    REQUIRE(id.ok());
  }
  c.deliver();
}

}  // namespace etsecd::raft::testing
