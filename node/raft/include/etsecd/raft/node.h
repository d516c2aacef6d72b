#pragma once
// The Raft core of etsecd-node: a pure, deterministic state machine in the style of etcd-io/raft's
// RawNode. No I/O, threads, clock or randomness of its own: the host calls tick() on a timer, step()
// for every received message, propose()/read_index() for clients, and drains ready():
//
//   while (node.has_ready()) {
//     Ready rd = node.ready();
//     persist rd.hard_state + rd.entries atomically, fsync;   // see storage.h
//     apply rd.share_repairs (same durability);
//     send rd.messages;                                        // only after persisting
//     apply rd.committed_entries; answer rd.read_states; fail rd.dropped_proposals;
//     node.advance(rd);
//   }
//
// Every member stores only its own Shamir share of each value: propose() splits values for every
// member's share index, the leader keeps its own share, and each message to member i carries only
// member i's shares. docs/protocol.md states the rules and why they are safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/quorum.h"
#include "etsecd/raft/secret_sharer.h"
#include "etsecd/raft/storage.h"
#include "etsecd/raft/types.h"
#include "etsecd/shamir/random.h"

namespace etsecd::raft {

struct Config {
  MemberId id = kNoMember;
  // Used when storage holds no membership yet (a fresh member): identical on every initial member.
  Membership initial_membership;
  unsigned election_tick =
      10;  // followers campaign after a random timeout in [election_tick, 2*election_tick)
  unsigned heartbeat_tick = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t max_bytes_per_message = 1 << 20;
  unsigned max_inflight_messages = 256;
  unsigned max_fetch_entries = 64;        // entries per share-fetch request
  uint64_t share_cache_bytes = 64 << 20;  // leader's in-memory copy of other members' shares
  uint64_t applied = 0;                   // last index the host applied before a restart
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* to_string(Role role);

// Identifies a proposal: it succeeded iff an entry with this (index, term) is applied.
struct ProposalId {
  uint64_t term = 0;
  uint64_t index = 0;
  friend bool operator==(const ProposalId&, const ProposalId&) = default;
  friend auto operator<=>(const ProposalId&, const ProposalId&) = default;
};

struct SoftState {
  MemberId leader = kNoMember;
  Role role = Role::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// A confirmed read: once the host has applied through `index`, a read for `context` is linearizable.
struct ReadState {
  uint64_t index = 0;
  Bytes context;
};

// This member's stored share of value `value` of entry (index, term) failed its checksum. No bytes.
struct CorruptShare {
  uint64_t index = 0;
  uint64_t term = 0;
  uint32_t value = 0;
  friend bool operator==(const CorruptShare&, const CorruptShare&) = default;
  friend auto operator<=>(const CorruptShare&, const CorruptShare&) = default;
};

// A rebuilt share for this member, to overwrite the corrupt one in storage (and in the host's KV
// store if the entry was already applied).
struct ShareRepair {
  uint64_t index = 0;
  uint64_t term = 0;
  uint32_t value = 0;
  Bytes share;
};

struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;  // to append; the first one's index replaces any stored suffix
  std::vector<ShareRepair> share_repairs;
  std::vector<Message> messages;  // send only after hard_state, entries and repairs are durable
  std::vector<Entry> committed_entries;
  std::vector<ReadState> read_states;
  std::vector<ProposalId> dropped_proposals;  // proposals of this member that can never commit
  std::vector<CorruptShare> corrupt_shares;   // for metrics and logs
};

struct NodeStatus {
  MemberId id = kNoMember;
  Role role = Role::kFollower;
  MemberId leader = kNoMember;
  uint64_t term = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t last_index = 0;
  bool recovering = false;  // leader still resolving its uncommitted suffix: not serving yet
  QuorumSettings quorum;
  uint8_t x = 0;
};

// Counters for tests, the simulator and metrics.
struct NodeStats {
  uint64_t leaderships = 0;
  uint64_t recovery_rebuilt_shares = 0;   // shares of earlier-term entries computed with repair_at
  uint64_t recovery_dropped_entries = 0;  // entries dropped as provably uncommitted
  uint64_t recovery_drop_events = 0;
  uint64_t recovery_waits = 0;   // leaderships that had to wait for more members
  uint64_t repaired_shares = 0;  // all repair_at computations
  uint64_t share_fetches_sent = 0;
  uint64_t cache_evictions = 0;
  uint64_t corrupt_shares_detected = 0;
  uint64_t rejected_messages = 0;  // malformed or foreign shares
};

class Node {
 public:
  // Errors: raft.invalid_config, raft.invalid_membership and those of validate_membership().
  static Result<std::unique_ptr<Node>> create(const Config& config, const Storage& storage,
                                              SecretSharer& sharer, shamir::RandomSource& rng);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void tick();
  // Errors: raft.unknown_member (sender not in the membership). Stale messages are ignored.
  Status step(const Message& message);
  // Leader only. Errors: raft.not_leader, raft.leader_recovering and raft.too_many_inflight (retry
  // shortly), shamir errors.
  Result<ProposalId> propose(Bytes metadata, const std::vector<Bytes>& values);
  // Leader only: a ReadState for `context` follows once a majority confirmed this leadership, either
  // by heartbeat responses (sent unless send_heartbeats is false) or by ack_leadership().
  // Errors: raft.not_leader, raft.leader_recovering.
  Status read_index(Bytes context, bool send_heartbeats = true);
  // The host learned, through its own RPC (e.g. a KV share fetch carrying term and context), that
  // member `from` was in `term` and followed this leader when it answered for read `context`.
  void ack_leadership(MemberId from, uint64_t term, const Bytes& context);
  // Starts an election now (tests, leadership transfer later).
  void campaign();

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  NodeStatus status() const;
  const NodeStats& stats() const;
  const Membership& membership() const;

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etsecd::raft
