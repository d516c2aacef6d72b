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
//     if (rd.membership) update the peer list; stop (and wipe) once node.removed_self();
//     start a share-repair stream for each rd.snapshot_requests (report_snapshot when it ends);
//     node.advance(rd);
//   }
//
// Log compaction: once the KV store made applied index i durable, the host calls
// storage.compact(i, node.membership_at(i)). A member being repaired: the host checks
// check_restore(meta), installs the stream's snapshot (storage.install_snapshot(meta), same durability
// as an append) and then calls restore(meta).
//
// Every member stores only its own Shamir share of each value: propose() splits values for every
// member's share index, the leader keeps its own share, and each message to member i carries only
// member i's shares. docs/protocol.md states the rules and why they are safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/raft/conf_change.h"
#include "etsecd/raft/quorum.h"
#include "etsecd/raft/secret_sharer.h"
#include "etsecd/raft/storage.h"
#include "etsecd/raft/types.h"
#include "etsecd/shamir/random.h"

namespace etsecd::raft {

struct Config {
  MemberId id = kNoMember;
  // The cluster's bootstrap membership, used when storage holds no snapshot membership: identical on
  // every initial member, and given by its host to a member that joins later (which then replays the
  // log from index 1, applying every committed conf change in order, like everyone after a restart).
  Membership initial_membership;
  // A member that joins later is not in initial_membership: its share index, assigned by the leader
  // when its AddLearner entry was appended, checks its shares before it sees that entry commit.
  // 0 = take x from the membership.
  uint8_t self_x = 0;
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

// The leader no longer has the log entries member `to` (share index x) lacks: the host streams it its
// shares of every record at the leader's applied index A (share repair, docs/protocol.md 9.6) and
// then calls Node::report_snapshot(to, A, ok). Asked once; again only after a failure report or when
// nothing was reported for 10 election timeouts.
struct SnapshotRequest {
  MemberId to = kNoMember;
  uint8_t x = 0;
  friend bool operator==(const SnapshotRequest&, const SnapshotRequest&) = default;
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
  // Set when a committed conf change changed the membership (after the entry is in committed_entries
  // of this or an earlier Ready): persist it, update the peer list, and stop this member once it is
  // no longer in it (Node::removed_self()).
  std::optional<Membership> membership;
  std::vector<SnapshotRequest> snapshot_requests;  // leader: members to repair by a share stream
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
  bool voter = false;                // false: a learner, or a member removed from the membership
  MemberId transferee = kNoMember;   // leader: the member leadership is being transferred to
  bool conf_change_pending = false;  // leader: a conf change is appended but not yet committed
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
  uint64_t rejected_messages = 0;   // malformed or foreign shares
  uint64_t snapshot_requests = 0;   // leader: repair streams asked for
  uint64_t snapshots_reported = 0;  // leader: report_snapshot calls accepted (ok or not)
  uint64_t snapshots_restored = 0;  // member: restore() calls accepted
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
  // Starts an election now (tests).
  void campaign();

  // Leader only: appends a kConfChange entry; it takes effect on every member when committed, and
  // Ready::membership reports it then. An AddLearner with x = 0 gets x = max_x_used + 1, visible in
  // membership() as soon as this returns. Errors:
  // raft.not_leader, raft.leader_recovering, raft.transfer_in_progress, raft.conf_change_pending (one
  // change at a time, and only once the leader committed an entry of its own term: retry shortly),
  // raft.learner_not_ready (promote of a learner that lacks committed entries or was not heard from
  // recently), raft.too_few_holders (a remove/promote would leave a committed value with fewer than
  // k holders among the voters), and those of apply_conf_change().
  Result<ProposalId> propose_conf_change(ConfChange change);
  // Leader only: stops accepting proposals (raft.transfer_in_progress) for at most one election
  // timeout, brings `to` up to date, then sends it kTimeoutNow; `to` campaigns at once without PreVote
  // and its vote requests override followers' leader lease. Transfer to self: Ok, nothing happens.
  // Errors: raft.not_leader, raft.unknown_member, raft.not_voter.
  Status transfer_leadership(MemberId to);
  // Leader: the highest log index member `to` is known to hold (its Progress match), 0 when unknown or
  // when this member does not lead. Where a planned leadership transfer should go (the most caught up).
  uint64_t match_of(MemberId to) const;
  // True once a committed conf change removed this member: it no longer votes or campaigns; the host
  // should stop it and wipe its shares.
  bool removed_self() const;

  // ---- log compaction and share-repair snapshots (docs/protocol.md 9.6) ----
  // The configuration the log prefix up to `index` defines (every conf change at or below it applied):
  // what the host passes to Storage::compact(index, ...). Meant for snapshot index <= index <= commit;
  // below the snapshot index it is the snapshot's membership.
  Membership membership_at(uint64_t index) const;
  // Leader: the repair stream asked for by a SnapshotRequest ended. ok: member `to` now holds every
  // entry up to `index` (its log starts after a snapshot at `index`), so replication resumes after it;
  // !ok: it is asked for again later. Ignored unless this member leads and still waits for a snapshot
  // for `to` (a report from an earlier term, or for a member removed since, changes nothing), and when
  // `index` is beyond this leader's log.
  void report_snapshot(MemberId to, uint64_t index, bool ok);
  // Member being repaired, after its host made its storage start at `meta` (install_snapshot): the log
  // starts after meta.index, commit = applied = meta.index, the membership is meta.membership (no
  // pending change); term and vote are unchanged. Own proposals at or below meta.index are reported in
  // Ready::dropped_proposals (their entries are gone here; whether they committed is unknown to this
  // member). Errors: raft.snapshot_stale (meta.index <= commit: nothing to gain, and the log could
  // lose committed entries), raft.snapshot_not_installed (storage does not start at meta),
  // raft.invalid_membership.
  Status restore(const SnapshotMeta& meta);
  // Call before wiping the storage for a snapshot (the stream may have taken a while): Ok, or
  // raft.snapshot_stale when meta.index <= commit or the log already holds entry (meta.index,
  // meta.term). Then the member caught up meanwhile: its entries after meta.index may be acknowledged
  // copies a commit counted on, so they must not be wiped. It holds every entry up to meta.index, so
  // report_snapshot(to, meta.index, true) is right (false works too: the leader probes again).
  Status check_restore(const SnapshotMeta& meta) const;

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  NodeStatus status() const;
  const NodeStats& stats() const;
  // The newest configuration in this member's log: the committed one plus the appended but not yet
  // committed conf change, if any (so a leader sees the x it assigned right after
  // propose_conf_change). Equal to committed_membership() when no change is pending.
  const Membership& membership() const;
  // The configuration in effect: quorums, elections and Ready::membership use this one.
  const Membership& committed_membership() const;

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etsecd::raft
