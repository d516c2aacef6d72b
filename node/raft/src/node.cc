// The Raft core over per-member Shamir shares. docs/protocol.md is the specification; the comments
// here point at the rule each piece implements.
#include "etsecd/raft/node.h"

#include <algorithm>
#include <cassert>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "membership_log.h"
#include "progress.h"
#include "raft_log.h"
#include "share_cache.h"

namespace etsecd::raft {

const char* to_string(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResp:
      return "PreVoteResp";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResp:
      return "VoteResp";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResp:
      return "AppendResp";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResp:
      return "HeartbeatResp";
    case MessageType::kShareFetch:
      return "ShareFetch";
    case MessageType::kShareFetchResp:
      return "ShareFetchResp";
    case MessageType::kShareRepair:
      return "ShareRepair";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
  }
  return "?";
}

namespace {
constexpr unsigned kFetchRetryTicks = 3;
constexpr uint64_t kMaxCommittedBytesPerReady = 64ull << 20;
// A snapshot request unanswered for this many election timeouts is asked again (the repair stream
// or its report was lost, e.g. with a crashed host).
constexpr unsigned kSnapshotRetryElectionTimeouts = 10;
}  // namespace

struct Node::Impl {
  Impl(const Config& c, const Storage& s, SecretSharer& sh, shamir::RandomSource& r, MembershipLog m,
       QuorumSettings q)
      : cfg(c),
        storage(s),
        sharer(sh),
        rng(r),
        log(s),
        confs(std::move(m)),
        quorum(q),
        cache(c.share_cache_bytes) {
    self_x = cfg.self_x;
    if (const Member* mem = member(cfg.id)) self_x = mem->x;
    self_voter = is_voter(cfg.id) && !confs.removed_self();
    const HardState hs = storage.hard_state();
    term = hs.term;
    vote = hs.vote;
    prev_hs = hs;
    applying = std::max(cfg.applied, storage.snapshot_meta().index);
    become_follower(term, kNoMember);
  }

  // ---- configuration ----
  Config cfg;
  const Storage& storage;
  SecretSharer& sharer;
  shamir::RandomSource& rng;
  RaftLog log;
  MembershipLog confs;    // committed configuration (in effect) and pending conf changes
  QuorumSettings quorum;  // of the committed configuration
  uint8_t self_x = 0;
  bool self_voter = false;

  // ---- Raft state ----
  uint64_t term = 0;
  MemberId vote = kNoMember;
  MemberId lead = kNoMember;
  Role role = Role::kFollower;
  unsigned election_elapsed = 0;
  unsigned heartbeat_elapsed = 0;
  unsigned randomized_timeout = 0;
  std::map<MemberId, bool> votes;

  // ---- leader state (reset every term) ----
  std::map<MemberId, Progress> prs;
  bool recovering = false;     // resolving the uncommitted suffix; not serving
  uint64_t resolved_upto = 0;  // every entry up to here is kept (and only these are sent)
  bool waited = false;
  ShareCache cache;
  struct Fetch {
    uint64_t last = 0;
    unsigned age = 0;  // heartbeat intervals since sent
  };
  std::map<uint64_t, Fetch> fetches;  // outstanding share fetches by first index
  uint64_t fetch_rotation = 0;
  struct PendingRead {
    Bytes context;
    uint64_t index = 0;
    std::set<MemberId> acks;
  };
  std::deque<PendingRead> reads;
  std::map<MemberId, std::set<CorruptShare>> repairs_wanted;
  MemberId transferee = kNoMember;  // leadership transfer in progress to this member
  unsigned transfer_elapsed = 0;    // ticks since it started; abandoned after one election timeout

  // ---- member state ----
  std::map<uint64_t, uint64_t> proposals;  // own proposals not yet applied: index -> term
  std::set<CorruptShare> own_corrupt;      // own shares known corrupt, awaiting a repair
  uint64_t applying = 0;                   // last committed index handed to the host

  // ---- output ----
  std::vector<Message> msgs;
  std::vector<ReadState> read_states;
  std::vector<ProposalId> dropped;
  std::vector<CorruptShare> corrupt_reports;
  std::vector<ShareRepair> share_repairs;
  std::vector<SnapshotRequest> snapshot_requests;
  bool membership_changed = false;  // committed configuration changed since the last Ready
  HardState prev_hs;
  SoftState prev_ss;
  NodeStats stats;

  // ================= helpers =================
  const Membership& membership() const { return confs.committed(); }
  static const Member* find_in(const Membership& config, MemberId id) {
    for (const Member& m : config.members)
      if (m.id == id) return &m;
    return nullptr;
  }
  // Any member of the newest or the committed configuration (a member being added or removed is in
  // only one of them); share indexes are found here.
  const Member* member(MemberId id) const {
    if (const Member* m = find_in(confs.latest(), id)) return m;
    return find_in(membership(), id);
  }
  // A voter of the committed configuration: elections, CheckQuorum and reads count these.
  bool is_voter(MemberId id) const {
    const Member* m = find_in(membership(), id);
    return m && m->voter;
  }
  // The configurations of this log: the committed one (from index 0) and one per pending conf change
  // (from its index on). An index commits under the configuration its log prefix defines: the last one
  // starting at or before it (section 9).
  struct QuorumConfig {
    uint64_t from;
    const Membership* config;
    QuorumSettings quorum;
  };
  std::vector<QuorumConfig> quorum_configs() const {
    std::vector<QuorumConfig> out{{0, &membership(), quorum}};
    for (const auto& [index, config] : confs.pending()) {
      auto q = validate_membership(config);
      if (q) out.push_back({index, &config, *q});
    }
    return out;
  }
  // The configurations entry i could have been committed under: the one at its position and every
  // later one in our log (a later index commits i with it).
  std::vector<QuorumConfig> configs_from(uint64_t i) const {
    std::vector<QuorumConfig> all = quorum_configs();
    size_t first = 0;
    for (size_t j = 0; j < all.size(); ++j)
      if (all[j].from <= i) first = j;
    return std::vector<QuorumConfig>(all.begin() + static_cast<long>(first), all.end());
  }
  bool voter_in_any(MemberId id) const {
    for (const QuorumConfig& qc : quorum_configs()) {
      const Member* m = find_in(*qc.config, id);
      if (m && m->voter) return true;
    }
    return false;
  }
  // Log appends go through here so the pending configurations follow truncations and new entries.
  uint64_t append_to_log(const std::vector<Entry>& entries) {
    const uint64_t replaced = log.truncate_and_append(entries);
    confs.on_append(entries);
    return replaced;
  }
  unsigned voter_quorum() const { return election_quorum(quorum.voters); }

  uint64_t random_u64() {
    uint8_t b[8];
    rng.fill(b);
    uint64_t v = 0;
    for (uint8_t byte : b) v = (v << 8) | byte;
    return v;
  }

  void send(Message m) {
    m.from = cfg.id;
    msgs.push_back(std::move(m));
  }

  void reset(uint64_t new_term) {
    if (term != new_term) {
      term = new_term;
      vote = kNoMember;
    }
    lead = kNoMember;
    election_elapsed = 0;
    heartbeat_elapsed = 0;
    randomized_timeout = cfg.election_tick + static_cast<unsigned>(random_u64() % cfg.election_tick);
    votes.clear();
    prs.clear();
    recovering = false;
    waited = false;
    reads.clear();
    cache.clear();
    fetches.clear();
    repairs_wanted.clear();
    transferee = kNoMember;
    transfer_elapsed = 0;
  }

  void become_follower(uint64_t t, MemberId leader) {
    reset(t);
    lead = leader;
    role = Role::kFollower;
  }

  void become_leader() {
    reset(term);
    role = Role::kLeader;
    lead = cfg.id;
    ++stats.leaderships;
    for (const QuorumConfig& qc : quorum_configs())
      for (const Member& m : qc.config->members) add_progress(m.id);
    recovering = true;
    resolved_upto = log.committed();
    maybe_finish_recovery();
    for (auto& [id, pr] : prs)
      if (id != cfg.id) send_append(id);
  }

  void add_progress(MemberId id) {
    if (prs.count(id)) return;
    Progress p;
    p.next = log.last_index() + 1;
    if (id == cfg.id) {
      p.match = log.stable_last();
      p.state = Progress::State::kReplicate;
    }
    prs[id] = p;
  }

  // `transfer`: asked by the leader (kTimeoutNow), so no pre-vote and the vote requests override
  // voters' leader lease.
  void start_campaign(bool pre, bool transfer = false) {
    if (!self_voter) return;
    if (pre) {
      votes.clear();
      lead = kNoMember;
      role = Role::kPreCandidate;
    } else {
      reset(term + 1);
      vote = cfg.id;
      role = Role::kCandidate;
    }
    votes[cfg.id] = true;
    if (granted_votes() >= voter_quorum()) {
      if (pre) {
        start_campaign(false);
      } else {
        become_leader();
      }
      return;
    }
    for (const Member& m : membership().members) {
      if (m.id == cfg.id || !m.voter) continue;
      Message msg;
      msg.type = pre ? MessageType::kPreVote : MessageType::kVote;
      msg.to = m.id;
      msg.term = pre ? term + 1 : term;
      msg.index = log.last_index();
      msg.log_term = log.last_term();
      if (transfer)
        msg.context.assign(std::begin(kCampaignTransferContext), std::end(kCampaignTransferContext) - 1);
      send(std::move(msg));
    }
  }

  unsigned granted_votes() const {
    unsigned n = 0;
    for (auto& [id, granted] : votes)
      if (granted && is_voter(id)) ++n;
    return n;
  }
  unsigned rejected_votes() const {
    unsigned n = 0;
    for (auto& [id, granted] : votes)
      if (!granted && is_voter(id)) ++n;
    return n;
  }

  // ================= ticks =================
  void tick() {
    if (role == Role::kLeader) {
      tick_leader();
      return;
    }
    ++election_elapsed;
    if (self_voter && election_elapsed >= randomized_timeout) {
      election_elapsed = 0;
      start_campaign(cfg.pre_vote);
    }
  }

  void tick_leader() {
    ++heartbeat_elapsed;
    ++election_elapsed;
    if (transferee != kNoMember && ++transfer_elapsed >= cfg.election_tick) {
      transferee = kNoMember;  // the transferee did not take over in time: serve again
      transfer_elapsed = 0;
    }
    if (election_elapsed >= cfg.election_tick) {
      election_elapsed = 0;
      if (cfg.check_quorum) {
        // CheckQuorum: a leader that cannot reach a majority steps down, so a partitioned leader
        // stops confirming reads and a new leader can be elected without disruption.
        unsigned active = 0;
        for (auto& [id, pr] : prs) {
          if (!is_voter(id)) continue;
          if (id == cfg.id || pr.recent_active) ++active;
          pr.recent_active = false;
        }
        if (active < voter_quorum()) {
          become_follower(term, kNoMember);
          return;
        }
      }
    }
    for (auto& [id, pr] : prs) {
      if (pr.state != Progress::State::kSnapshot) continue;
      if (++pr.snapshot_elapsed >= kSnapshotRetryElectionTimeouts * cfg.election_tick)
        request_snapshot(id, pr);
    }
    if (heartbeat_elapsed >= cfg.heartbeat_tick) {
      heartbeat_elapsed = 0;
      bcast_heartbeat({});
      for (auto it = fetches.begin(); it != fetches.end();) {
        if (++it->second.age >= kFetchRetryTicks) {
          it = fetches.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& [id, pr] : prs) {
        if (id == cfg.id) continue;
        pr.probe_sent = false;
        pr.status_probed = 0;
        send_append(id);
      }
      process_repairs();
      maybe_finish_recovery(/*probe_unknown=*/true);
      maybe_send_timeout_now();
    }
  }

  // ================= step =================
  Status step(const Message& m) {
    if (m.to != cfg.id) return make_error("raft.wrong_recipient", "message addressed to another member");
    const bool from_leader = m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
                             m.type == MessageType::kShareFetch || m.type == MessageType::kShareRepair ||
                             m.type == MessageType::kTimeoutNow;
    // A member that joined later learns about members added after the bootstrap membership only by
    // replaying the log, so it accepts a leader's messages from a member it does not know yet (the
    // host's mutual TLS authenticated the sender). Everything else must come from a known member.
    if (!member(m.from) && !from_leader) {
      return make_error("raft.unknown_member",
                        "message from member " + std::to_string(m.from) + ", which is not in the membership");
    }
    if (m.term > term) {
      if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
        // With CheckQuorum, a member that heard from a live leader within the election timeout
        // ignores vote requests: a partitioned member cannot depose a healthy leader. A campaign the
        // leader itself asked for (leadership transfer) is the exception.
        const bool transfer = m.type == MessageType::kVote && is_transfer_context(m.context);
        const bool in_lease = cfg.check_quorum && lead != kNoMember && election_elapsed < cfg.election_tick;
        if (in_lease && !transfer) return Status::Ok();
      }
      if (m.type == MessageType::kPreVote || (m.type == MessageType::kPreVoteResp && !m.reject)) {
        // Pre-votes never change terms.
      } else {
        become_follower(m.term, from_leader ? m.from : kNoMember);
      }
    } else if (m.term < term) {
      if (from_leader && (cfg.check_quorum || cfg.pre_vote)) {
        // Tell a stale leader about the newer term so it steps down.
        Message resp;
        resp.type = MessageType::kAppendResp;
        resp.to = m.from;
        resp.term = term;
        send(std::move(resp));
      } else if (m.type == MessageType::kPreVote) {
        Message resp;
        resp.type = MessageType::kPreVoteResp;
        resp.to = m.from;
        resp.term = term;
        resp.reject = true;
        send(std::move(resp));
      }
      return Status::Ok();
    }

    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      handle_vote_request(m);
      return Status::Ok();
    }
    switch (role) {
      case Role::kLeader:
        step_leader(m);
        break;
      case Role::kCandidate:
      case Role::kPreCandidate:
        step_candidate(m);
        break;
      case Role::kFollower:
        step_follower(m);
        break;
    }
    return Status::Ok();
  }

  static bool is_transfer_context(const Bytes& context) {
    const std::string_view marker(kCampaignTransferContext);
    return context.size() == marker.size() && std::equal(context.begin(), context.end(), marker.begin());
  }

  void handle_vote_request(const Message& m) {
    const bool pre = m.type == MessageType::kPreVote;
    // A removed member no longer takes part in elections.
    const bool can_vote =
        !confs.removed_self() &&
        (vote == m.from || (vote == kNoMember && lead == kNoMember) || (pre && m.term > term));
    Message resp;
    resp.type = pre ? MessageType::kPreVoteResp : MessageType::kVoteResp;
    resp.to = m.from;
    if (can_vote && log.is_up_to_date(m.index, m.log_term)) {
      resp.term = m.term;
      if (!pre) {
        election_elapsed = 0;
        vote = m.from;
      }
    } else {
      resp.term = term;
      resp.reject = true;
    }
    send(std::move(resp));
  }

  void step_candidate(const Message& m) {
    const bool pre = role == Role::kPreCandidate;
    switch (m.type) {
      case MessageType::kAppend:
      case MessageType::kHeartbeat:
      case MessageType::kShareFetch:
      case MessageType::kShareRepair:
        become_follower(m.term, m.from);
        step_follower(m);
        return;
      case MessageType::kPreVoteResp:
      case MessageType::kVoteResp: {
        if ((m.type == MessageType::kPreVoteResp) != pre) return;
        if (!is_voter(m.from)) return;
        votes.emplace(m.from, !m.reject);
        if (granted_votes() >= voter_quorum()) {
          if (pre) {
            start_campaign(false);
          } else {
            become_leader();
          }
        } else if (rejected_votes() >= voter_quorum()) {
          become_follower(term, kNoMember);
        }
        return;
      }
      default:
        return;
    }
  }

  void step_follower(const Message& m) {
    switch (m.type) {
      case MessageType::kAppend:
        election_elapsed = 0;
        lead = m.from;
        handle_append(m);
        return;
      case MessageType::kHeartbeat:
        election_elapsed = 0;
        lead = m.from;
        handle_heartbeat(m);
        return;
      case MessageType::kShareFetch:
        election_elapsed = 0;
        lead = m.from;
        handle_share_fetch(m);
        return;
      case MessageType::kShareRepair:
        handle_share_repair(m);
        return;
      case MessageType::kTimeoutNow:
        // Our leader hands over: campaign at once (term+1, no pre-vote, overriding the lease).
        if (self_voter) start_campaign(/*pre=*/false, /*transfer=*/true);
        return;
      default:
        return;
    }
  }

  // ================= follower side =================
  bool shares_are_mine(const Entry& e) {
    for (const Bytes& s : e.shares) {
      auto info = sharer.check(s);
      if (!info || info->x != self_x || info->threshold != quorum.threshold) return false;
    }
    return true;
  }

  void handle_append(const Message& m) {
    Message resp;
    resp.type = MessageType::kAppendResp;
    resp.to = m.from;
    resp.term = term;
    if (m.index < log.committed()) {
      resp.index = log.committed();
      resp.log_term = log.term_or_zero(resp.index);
      send(std::move(resp));
      return;
    }
    if (!log.match_term(m.index, m.log_term)) {
      resp.reject = true;
      resp.index = m.index;
      resp.reject_hint = std::min(m.index - 1, log.last_index());
      resp.log_term = log.term_or_zero(resp.reject_hint);
      send(std::move(resp));
      return;
    }
    for (size_t j = 0; j < m.entries.size(); ++j) {
      // Only well-formed entries carrying this member's own shares are stored.
      if (m.entries[j].index != m.index + 1 + j || !shares_are_mine(m.entries[j])) {
        ++stats.rejected_messages;
        return;
      }
    }
    const uint64_t last_new = m.index + m.entries.size();
    const uint64_t conflict = log.find_conflict(m.entries);
    if (conflict != 0) {
      assert(conflict > log.committed());
      std::vector<Entry> tail(m.entries.begin() + static_cast<long>(conflict - m.index - 1), m.entries.end());
      const uint64_t replaced = append_to_log(tail);
      if (replaced != 0) drop_proposals_from(replaced);
    }
    log.commit_to(std::min(m.commit, last_new));
    resp.index = last_new;
    resp.log_term = log.term_or_zero(last_new);
    send(std::move(resp));
  }

  void handle_heartbeat(const Message& m) {
    log.commit_to(m.commit);
    // Shares of compacted entries live in the host's KV store now; the log no longer tracks them.
    own_corrupt.erase(own_corrupt.begin(), own_corrupt.lower_bound(CorruptShare{log.first_index(), 0, 0}));
    Message resp;
    resp.type = MessageType::kHeartbeatResp;
    resp.to = m.from;
    resp.term = term;
    resp.context = m.context;
    resp.share_items = corrupt_items();
    send(std::move(resp));
  }

  // Own corrupt shares, as items without bytes, so the leader can send rebuilt ones.
  std::vector<ShareItem> corrupt_items() const {
    std::vector<ShareItem> items;
    for (const CorruptShare& c : own_corrupt) {
      if (items.empty() || items.back().index != c.index || items.back().term != c.term) {
        items.push_back(ShareItem{c.index, c.term, {}, {}});
      }
      items.back().corrupt_values.push_back(c.value);
    }
    return items;
  }

  void note_own_corrupt(uint64_t index, uint64_t t, uint32_t value) {
    CorruptShare c{index, t, value};
    if (own_corrupt.insert(c).second) {
      corrupt_reports.push_back(c);
      ++stats.corrupt_shares_detected;
      if (role == Role::kLeader) repairs_wanted[cfg.id].insert(c);
    }
  }

  bool own_share_ok(const Entry& e, uint32_t v) {
    auto info = sharer.check(e.shares[v]);
    if (info && info->x == self_x) return true;
    note_own_corrupt(e.index, e.term, v);
    return false;
  }

  void handle_share_fetch(const Message& m) {
    Message resp;
    resp.type = MessageType::kShareFetchResp;
    resp.to = m.from;
    resp.term = term;
    resp.index = log.first_index();
    const uint64_t lo = std::max(m.index, log.first_index());
    const uint64_t hi = std::min(m.fetch_last, log.last_index());
    uint64_t bytes = 0;
    for (uint64_t i = lo; i <= hi && bytes < cfg.max_bytes_per_message; ++i) {
      auto e = log.entry(i);
      if (!e) break;
      if (e->shares.empty()) continue;
      ShareItem item{i, e->term, {}, {}};
      for (uint32_t v = 0; v < e->shares.size(); ++v) {
        if (own_share_ok(*e, v)) {
          item.shares.push_back(e->shares[v]);
        } else {
          item.shares.emplace_back();
          item.corrupt_values.push_back(v);
        }
      }
      bytes += entry_size(*e);
      resp.share_items.push_back(std::move(item));
    }
    send(std::move(resp));
  }

  void handle_share_repair(const Message& m) {
    for (const ShareItem& item : m.share_items) {
      if (!log.match_term(item.index, item.term) || item.shares.size() != item.corrupt_values.size())
        continue;
      for (size_t j = 0; j < item.corrupt_values.size(); ++j) {
        auto info = sharer.check(item.shares[j]);
        if (!info || info->x != self_x) {
          ++stats.rejected_messages;
          continue;
        }
        CorruptShare c{item.index, item.term, item.corrupt_values[j]};
        if (own_corrupt.erase(c) == 0) continue;
        share_repairs.push_back(ShareRepair{c.index, c.term, c.value, item.shares[j]});
      }
    }
  }

  void drop_proposals_from(uint64_t index) {
    for (auto it = proposals.lower_bound(index); it != proposals.end();) {
      dropped.push_back(ProposalId{it->second, it->first});
      it = proposals.erase(it);
    }
  }

  // ================= leader side =================
  void step_leader(const Message& m) {
    auto it = prs.find(m.from);
    if (it == prs.end()) return;
    Progress& pr = it->second;
    switch (m.type) {
      case MessageType::kAppendResp:
        pr.recent_active = true;
        handle_append_resp(m.from, pr, m);
        return;
      case MessageType::kHeartbeatResp:
        pr.recent_active = true;
        pr.probe_sent = false;
        note_reported_corruption(m.from, m.share_items);
        if (pr.match < log.last_index()) {
          // An append may have been lost: free a slot and, if nothing new can go out, resend the
          // previous index so the member rejects it and probing starts over.
          if (pr.state == Progress::State::kReplicate && !pr.inflight.empty()) pr.inflight.pop_front();
          if (!send_append(m.from) && pr.state == Progress::State::kReplicate) send_empty_append(m.from, pr);
        }
        if (!m.context.empty()) ack_read(m.from, m.context);
        return;
      case MessageType::kShareFetchResp:
        pr.recent_active = true;
        handle_share_fetch_resp(m.from, m);
        return;
      default:
        return;
    }
  }

  void handle_append_resp(MemberId from, Progress& pr, const Message& m) {
    if (m.reject) {
      if (m.index <= pr.match) return;                     // stale
      if (pr.state == Progress::State::kSnapshot) return;  // only the repair stream can help it now
      // What the member lacks (and so, by log matching, every later entry), for the drop rule:
      //  - our entry at m.index (it rejected it);
      //  - everything after reject_hint when that is its last index;
      //  - every entry whose term exceeds log_term, its term at reject_hint: its own terms there
      //    are <= log_term, so those entries cannot be ours.
      const uint64_t hint = m.reject_hint;
      const uint64_t j = log.find_conflict_by_term(hint, m.log_term);
      uint64_t lacks = std::min(m.index, hint + 1);
      const bool hint_term_known = m.log_term != 0 || hint == 0;  // 0: compacted on the member
      if (hint_term_known && j < hint) lacks = std::min(lacks, j + 1);
      if (hint_term_known && j == hint && !log.match_term(hint, m.log_term)) lacks = std::min(lacks, hint);
      pr.lacks_from = std::min(pr.lacks_from, std::max(lacks, pr.match + 1));
      if (pr.state == Progress::State::kProbe && pr.next - 1 != m.index) return;  // stale probe answer
      pr.next = std::max(pr.match + 1, std::min(m.index, j + 1));
      pr.state = Progress::State::kProbe;
      pr.probe_sent = false;
      pr.inflight.clear();
      maybe_finish_recovery();
      send_append(from);
      return;
    }
    // An acknowledgement names (index, term): after a drop the leader's log changed within its term,
    // so an index alone could acknowledge an entry that is gone.
    if (!log.match_term(m.index, m.log_term)) return;
    pr.free_inflight_through(m.index);
    // An acknowledgement of the known match still ends probing (e.g. after report_snapshot).
    const bool ends_probe = m.index == pr.match && pr.state == Progress::State::kProbe;
    if ((m.index > pr.match || ends_probe) && m.index <= log.last_index()) {
      pr.match = m.index;
      if (pr.lacks_from <= pr.match) pr.lacks_from = kNoIndex;
      if (pr.state == Progress::State::kProbe ||
          (pr.state == Progress::State::kSnapshot && pr.match + 1 >= log.first_index())) {
        // (A member waiting for a snapshot that caught up otherwise, e.g. a status probe answered,
        // needs it no more.)
        pr.state = Progress::State::kReplicate;
        pr.next = pr.match + 1;
        pr.inflight.clear();
      } else if (pr.state == Progress::State::kReplicate) {
        pr.next = std::max(pr.next, pr.match + 1);
      }
      pr.probe_sent = false;
      if (maybe_commit()) bcast_append();
      maybe_finish_recovery();
      trim_cache();
    }
    if (role == Role::kLeader) {
      send_append(from);
      if (from == transferee) maybe_send_timeout_now();
    }
  }

  // Leadership transfer: once the transferee holds our whole log, tell it to campaign now.
  void maybe_send_timeout_now() {
    if (role != Role::kLeader || transferee == kNoMember || recovering) return;
    auto it = prs.find(transferee);
    if (it == prs.end() || it->second.match != log.last_index()) return;
    Message msg;
    msg.type = MessageType::kTimeoutNow;
    msg.to = transferee;
    msg.term = term;
    send(std::move(msg));
  }

  void trim_cache() {
    uint64_t min_match = log.committed();
    std::vector<uint64_t> held;  // how far each member holds our log; the leader holds all of it
    for (auto& [id, pr] : prs) {
      min_match = std::min(min_match, pr.match);
      // A member being removed (or added) may be gone soon: its copy does not make others' shares
      // rebuildable, so it does not unpin them.
      if (find_in(membership(), id) && find_in(confs.latest(), id))
        held.push_back(id == cfg.id ? log.last_index() : pr.match);
    }
    cache.erase_through(min_match);
    std::sort(held.rbegin(), held.rend());
    // Once k members hold an entry, its other shares can be rebuilt, so the cache may evict them.
    if (held.size() >= quorum.threshold) cache.unpin_through(held[quorum.threshold - 1]);
  }

  bool maybe_commit() {
    // An index commits when W voters of the configuration at its position hold it (section 9): the
    // committed configuration before the first pending conf change, the new one from it on.
    const std::vector<QuorumConfig> configs = quorum_configs();
    uint64_t candidate = log.committed();
    for (size_t j = 0; j < configs.size(); ++j) {
      const QuorumConfig& qc = configs[j];
      std::vector<uint64_t> matches;
      for (const Member& m : qc.config->members) {
        if (!m.voter) continue;
        auto it = prs.find(m.id);
        matches.push_back(it == prs.end() ? 0 : it->second.match);
      }
      std::sort(matches.rbegin(), matches.rend());
      if (matches.size() < qc.quorum.commit_quorum) continue;
      const uint64_t upto = j + 1 < configs.size() ? configs[j + 1].from - 1 : kNoIndex;
      const uint64_t c = std::min(matches[qc.quorum.commit_quorum - 1], upto);
      if (c >= qc.from && c > candidate) candidate = c;
    }
    // Raft's rule: only entries of the current term are committed by counting; W durable copies.
    if (candidate > log.committed() && log.term_or_zero(candidate) == term) {
      log.commit_to(candidate);
      return true;
    }
    return false;
  }

  void bcast_append() {
    for (auto& [id, pr] : prs) {
      if (id == cfg.id) continue;
      if (!send_append(id) && pr.state == Progress::State::kReplicate) send_empty_append(id, pr);
    }
  }

  // Carries the new commit index to a member that is otherwise up to date.
  void send_empty_append(MemberId to, Progress& pr) {
    if (pr.inflight.size() >= cfg.max_inflight_messages) return;
    auto prev_term = log.term(pr.next - 1);
    if (!prev_term) return;
    Message msg;
    msg.type = MessageType::kAppend;
    msg.to = to;
    msg.term = term;
    msg.index = pr.next - 1;
    msg.log_term = *prev_term;
    msg.commit = log.committed();
    send(std::move(msg));
  }

  void bcast_heartbeat(const Bytes& context) {
    for (auto& [id, pr] : prs) {
      if (id == cfg.id) continue;
      Message msg;
      msg.type = MessageType::kHeartbeat;
      msg.to = id;
      msg.term = term;
      msg.commit = std::min(pr.match, log.committed());
      msg.context = context;
      send(std::move(msg));
    }
  }

  // Sends the member what it lacks, as far as its shares are available. Returns whether anything
  // was sent.
  bool send_append(MemberId to) {
    Progress& pr = prs[to];
    if (pr.state == Progress::State::kSnapshot) return false;
    if (pr.state == Progress::State::kProbe && pr.probe_sent) return false;
    if (pr.state == Progress::State::kReplicate && pr.inflight.size() >= cfg.max_inflight_messages)
      return false;
    const uint64_t limit = recovering ? resolved_upto : log.last_index();
    const Member* mem = member(to);
    if (!mem) return false;
    auto prev_term = log.term(pr.next - 1);
    if (!prev_term) {
      if (prev_term.error().code == "raft.compacted") request_snapshot(to, pr);
      return false;
    }
    std::vector<Entry> entries;
    uint64_t bytes = 0;
    for (uint64_t i = pr.next; i <= limit && bytes < cfg.max_bytes_per_message; ++i) {
      auto e = log.entry(i);
      if (!e) {
        if (entries.empty() && e.error().code == "raft.compacted") {
          request_snapshot(to, pr);
          return false;
        }
        break;
      }
      if (!e->shares.empty()) {
        auto shares = shares_for(*e, mem->x);
        if (!shares) {
          if (entries.empty() && i <= log.committed() && !shares_obtainable(*e, to)) {
            // Too few intact copies of this committed entry remain in logs to rebuild the member's
            // share (compacted, corrupt or missing): only the repair stream from the KV stores can.
            request_snapshot(to, pr);
            return false;
          }
          request_fetch(i, limit);
          if (entries.empty() && pr.status_probed != i) {
            // The member may hold this entry already (its acknowledgement was lost): ask before
            // waiting for shares it may not need.
            pr.status_probed = i;
            send_status_probe(to, i, e->term);
            return true;
          }
          break;
        }
        e->shares = std::move(*shares);
      }
      bytes += entry_size(*e);
      entries.push_back(std::move(*e));
    }
    if (entries.empty() && pr.state == Progress::State::kReplicate) return false;
    Message msg;
    msg.type = MessageType::kAppend;
    msg.to = to;
    msg.term = term;
    msg.index = pr.next - 1;
    msg.log_term = *prev_term;
    msg.commit = log.committed();
    if (pr.state == Progress::State::kReplicate) {
      pr.next = entries.back().index + 1;
      pr.inflight.push_back(entries.back().index);
    } else {
      pr.probe_sent = true;
    }
    msg.entries = std::move(entries);
    send(std::move(msg));
    return true;
  }

  // Whether k intact shares of entry e (other than member `to`'s own) may still be gathered: the
  // leader's own unless corrupt, and those of every other member that may hold e in its log (not known
  // to have compacted it, not known to lack it, no corrupt share of e reported). A member known to lack
  // e counts only while the cache holds its share: it can receive e only from this leader, which needs
  // k shares to compute its share first, so counting it would let two lagging members wait on each
  // other forever. A corrupt share is repaired only from k intact ones, so it cannot count either.
  bool shares_obtainable(const Entry& e, MemberId to) const {
    unsigned sources = own_shares_intact(e) ? 1 : 0;
    for (const auto& [id, pr] : prs) {
      if (id == cfg.id || id == to || pr.log_start > e.index || reported_corrupt(id, e)) continue;
      if (pr.lacks_from <= e.index) {
        const Member* mem = member(id);
        if (!mem || !cache.find(e.index, e.term, mem->x)) continue;
      }
      ++sources;
    }
    return sources >= quorum.threshold;
  }

  bool own_shares_intact(const Entry& e) const {
    for (const Bytes& share : e.shares) {
      auto info = sharer.check(share);
      if (!info || info->x != self_x) return false;
    }
    return true;
  }

  // Member `id` reported a corrupt share of e that is not repaired yet (its fetch answers skip e).
  bool reported_corrupt(MemberId id, const Entry& e) const {
    auto it = repairs_wanted.find(id);
    if (it == repairs_wanted.end()) return false;
    auto c = it->second.lower_bound(CorruptShare{e.index, e.term, 0});
    return c != it->second.end() && c->index == e.index && c->term == e.term;
  }

  // The member needs entries this leader compacted: ask the host for a repair stream.
  void request_snapshot(MemberId to, Progress& pr) {
    const Member* mem = member(to);
    if (!mem) return;
    pr.state = Progress::State::kSnapshot;
    pr.snapshot_elapsed = 0;
    pr.probe_sent = false;
    pr.inflight.clear();
    snapshot_requests.push_back(SnapshotRequest{to, mem->x});
    ++stats.snapshot_requests;
  }

  void report_snapshot(MemberId to, uint64_t index, bool ok) {
    if (role != Role::kLeader) return;
    auto it = prs.find(to);
    if (it == prs.end() || it->second.state != Progress::State::kSnapshot) return;
    if (ok && index > log.last_index()) return;  // not a snapshot of this leader's log
    Progress& pr = it->second;
    ++stats.snapshots_reported;
    pr.state = Progress::State::kProbe;
    pr.inflight.clear();
    if (!ok) {
      // The next heartbeat interval probes at our snapshot index, the earliest entry whose term we
      // know: the member may have caught up meanwhile (check_restore refused the stream); if it
      // still lacks it, the rejection asks for a new stream.
      pr.next = std::max(pr.next, log.first_index());
      pr.probe_sent = true;
      return;
    }
    pr.match = std::max(pr.match, index);
    pr.next = pr.match + 1;
    pr.probe_sent = false;
    if (pr.lacks_from <= pr.match) pr.lacks_from = kNoIndex;
    if (maybe_commit()) bcast_append();
    trim_cache();
    send_append(to);
  }

  // Shares of `e` for the member at x: its own copy, a cached copy, or repair_at from any k cached
  // shares (of this exact index and term) plus the leader's own. nullopt: fetch more shares first.
  std::optional<std::vector<Bytes>> shares_for(const Entry& e, uint8_t x) {
    if (x == self_x) return e.shares;
    if (const auto* cached = cache.find(e.index, e.term, x)) return *cached;
    std::vector<Bytes> out;
    for (uint32_t v = 0; v < e.shares.size(); ++v) {
      auto s = rebuild_share(e, v, x);
      if (!s) return std::nullopt;
      out.push_back(std::move(*s));
    }
    ++stats.repaired_shares;
    if (e.term < term) ++stats.recovery_rebuilt_shares;
    cache.put(e.index, e.term, x, out);
    stats.cache_evictions = cache.evictions();
    return out;
  }

  // Value v's share at `target_x` from k good shares that are not target_x's own.
  std::optional<Bytes> rebuild_share(const Entry& e, uint32_t v, uint8_t target_x) {
    std::vector<Bytes> inputs;
    if (target_x != self_x && own_share_ok(e, v)) inputs.push_back(e.shares[v]);
    if (const auto* holders = cache.holders(e.index, e.term)) {
      for (const auto& [hx, shares] : *holders) {
        if (inputs.size() >= quorum.threshold) break;
        if (hx == target_x || hx == self_x || v >= shares.size()) continue;
        inputs.push_back(shares[v]);
      }
    }
    if (inputs.size() < quorum.threshold) return std::nullopt;
    auto r = sharer.repair_at(inputs, quorum.threshold, target_x);
    if (!r) return std::nullopt;
    return std::move(*r);
  }

  // Asks k members known to hold entry `index` (match >= index) for their shares of a range starting
  // there, sized so the answers fit the share cache; retries (with other holders) after a timeout.
  void request_fetch(uint64_t index, uint64_t limit) {
    if (fetches.count(index)) return;
    uint64_t last = index;
    uint64_t bytes = 0;
    for (uint64_t i = index; i <= limit && i < index + cfg.max_fetch_entries; ++i) {
      auto e = log.entry(i);
      if (!e) break;
      bytes += entry_size(*e) * quorum.threshold;
      if (i > index && bytes > cfg.share_cache_bytes / 2) break;
      last = i;
    }
    std::vector<MemberId> holders;
    for (auto& [id, pr] : prs)
      if (id != cfg.id && pr.match >= index) holders.push_back(id);
    if (holders.empty()) return;
    const size_t start = fetch_rotation++ % holders.size();
    const size_t ask = std::min<size_t>(holders.size(), quorum.threshold);
    for (size_t j = 0; j < ask; ++j) {
      Message msg;
      msg.type = MessageType::kShareFetch;
      msg.to = holders[(start + j) % holders.size()];
      msg.term = term;
      msg.index = index;
      msg.fetch_last = last;
      send(std::move(msg));
      ++stats.share_fetches_sent;
    }
    fetches[index] = Fetch{last, 0};
  }

  void handle_share_fetch_resp(MemberId from, const Message& m) {
    const Member* mem = member(from);
    if (auto pit = prs.find(from); pit != prs.end()) pit->second.log_start = m.index;
    note_reported_corruption(from, m.share_items);
    for (const ShareItem& item : m.share_items) {
      if (!item.corrupt_values.empty() || !log.match_term(item.index, item.term)) continue;
      auto own = log.entry(item.index);
      if (!own || own->shares.size() != item.shares.size()) {
        ++stats.rejected_messages;
        continue;
      }
      bool ok = true;
      for (const Bytes& s : item.shares) {
        auto info = sharer.check(s);
        if (!info || info->x != mem->x || info->threshold != quorum.threshold) ok = false;
      }
      if (!ok) {
        ++stats.rejected_messages;
        continue;
      }
      cache.put(item.index, item.term, mem->x, item.shares);
    }
    stats.cache_evictions = cache.evictions();
    for (auto& [id, pr] : prs)
      if (id != cfg.id) send_append(id);
    process_repairs();
  }

  void note_reported_corruption(MemberId from, const std::vector<ShareItem>& items) {
    for (const ShareItem& item : items)
      for (uint32_t v : item.corrupt_values)
        repairs_wanted[from].insert(CorruptShare{item.index, item.term, v});
  }

  // Rebuilds shares members reported corrupt, from k good shares of other members.
  void process_repairs() {
    for (auto& [id, wanted] : repairs_wanted) {
      const Member* mem = member(id);
      for (auto it = wanted.begin(); it != wanted.end();) {
        const CorruptShare c = *it;
        auto e = log.entry(c.index);
        if (!mem || !e || e->term != c.term || c.value >= e->shares.size()) {
          it = wanted.erase(it);
          continue;
        }
        std::optional<Bytes> share;
        if (id != cfg.id) {
          if (const auto* cached = cache.find(c.index, c.term, mem->x)) share = (*cached)[c.value];
        }
        if (!share) share = rebuild_share(*e, c.value, mem->x);
        if (!share) {
          request_fetch(c.index, c.index);
          ++it;
          continue;
        }
        ++stats.repaired_shares;
        if (id == cfg.id) {
          if (own_corrupt.erase(c)) share_repairs.push_back(ShareRepair{c.index, c.term, c.value, *share});
        } else {
          Message msg;
          msg.type = MessageType::kShareRepair;
          msg.to = id;
          msg.term = term;
          msg.share_items.push_back(ShareItem{c.index, c.term, {*share}, {c.value}});
          send(std::move(msg));
        }
        it = wanted.erase(it);
      }
    }
  }

  // Leader change, the crux: a new leader keeps each entry of its uncommitted suffix that k members
  // are known to hold (so every member's share can be computed), drops the suffix from the first
  // entry that is provably uncommitted (members not known to lack it < W), and otherwise waits.
  void maybe_finish_recovery(bool probe_unknown = false) {
    if (!recovering || role != Role::kLeader) return;
    while (resolved_upto < log.last_index()) {
      const uint64_t i = resolved_upto + 1;
      auto e = log.entry(i);
      if (!e) return;
      if (e->shares.empty()) {
        resolved_upto = i;
        continue;
      }
      unsigned holders = 0;
      for (auto& [id, pr] : prs)
        if (id == cfg.id || pr.match >= i) ++holders;
      if (holders >= quorum.threshold) {
        resolved_upto = i;
        continue;
      }
      // Provably uncommitted only if it misses the commit quorum of every configuration it could
      // have been committed under: the one at its position and every later one.
      bool provably_uncommitted = true;
      for (const QuorumConfig& qc : configs_from(i)) {
        unsigned possible = 0;
        for (const Member& m : qc.config->members) {
          if (!m.voter) continue;
          auto it = prs.find(m.id);
          if (m.id == cfg.id || it == prs.end() || it->second.lacks_from > i) ++possible;
        }
        if (possible >= qc.quorum.commit_quorum) provably_uncommitted = false;
      }
      if (provably_uncommitted) {
        drop_from(i);  // appends the no-op and ends recovery
        return;
      }
      if (!waited) {
        waited = true;
        ++stats.recovery_waits;
      }
      if (probe_unknown) probe_status(i, e->term);
      return;
    }
    recovering = false;
    Entry noop;
    noop.index = log.last_index() + 1;
    noop.term = term;
    noop.type = EntryType::kNoOp;
    append_to_log({noop});
    bcast_append();
  }

  // Asks every voter whose state is unknown whether it holds our entry (i, t): an empty append with
  // that entry as its predecessor is accepted exactly by the holders, and a rejection proves it lacks
  // the entry (and all later ones).
  void probe_status(uint64_t i, uint64_t t) {
    for (auto& [id, pr] : prs) {
      if (id == cfg.id || !voter_in_any(id) || pr.match >= i || pr.lacks_from <= i) continue;
      send_status_probe(id, i, t);
    }
  }

  void send_status_probe(MemberId to, uint64_t i, uint64_t t) {
    Message msg;
    msg.type = MessageType::kAppend;
    msg.to = to;
    msg.term = term;
    msg.index = i;
    msg.log_term = t;
    msg.commit = std::min(log.committed(), prs[to].match);
    send(std::move(msg));
  }

  void drop_from(uint64_t i) {
    ++stats.recovery_drop_events;
    stats.recovery_dropped_entries += log.last_index() - i + 1;
    drop_proposals_from(i);
    cache.erase_from(i);
    for (auto& [id, pr] : prs) {
      pr.match = std::min(pr.match, i - 1);
      pr.next = std::min(pr.next, i);
      if (id != cfg.id && pr.state != Progress::State::kSnapshot) {  // a repair stream stays wanted
        pr.state = Progress::State::kProbe;
        pr.probe_sent = false;
        pr.inflight.clear();
      }
    }
    // The no-op appended next (at index i, current term) replaces the dropped suffix everywhere.
    Entry noop;
    noop.index = i;
    noop.term = term;
    noop.type = EntryType::kNoOp;
    append_to_log({noop});
    prune_progress();  // a dropped AddLearner takes its member with it
    resolved_upto = i;
    recovering = false;
    bcast_append();
  }

  void ack_read(MemberId from, const Bytes& context) {
    for (size_t j = 0; j < reads.size(); ++j) {
      if (reads[j].context != context) continue;
      if (is_voter(from)) reads[j].acks.insert(from);
      if (reads[j].acks.size() >= voter_quorum()) {
        // Confirming a later read confirms every earlier one too.
        for (size_t r = 0; r <= j; ++r) read_states.push_back(ReadState{reads[r].index, reads[r].context});
        reads.erase(reads.begin(), reads.begin() + static_cast<long>(j + 1));
      }
      return;
    }
  }

  // ================= membership =================
  // Pending conf changes at or below the commit index take effect (etcd style: on commit).
  void apply_committed_confs() {
    if (!confs.on_commit(log.committed(), cfg.id)) return;
    membership_changed = true;
    if (auto q = validate_membership(membership())) quorum = *q;
    self_voter = is_voter(cfg.id) && !confs.removed_self();
    if (const Member* me = member(cfg.id)) self_x = me->x;
    if (role == Role::kLeader) {
      if (!self_voter) {
        // Our own removal (or nothing left to lead) is committed: step down; the rest elect a leader.
        become_follower(term, kNoMember);
        return;
      }
      prune_progress();
      if (transferee != kNoMember && !is_voter(transferee)) transferee = kNoMember;
    } else if (role != Role::kFollower && !self_voter) {
      become_follower(term, kNoMember);
    }
  }

  // Forgets members that are in no configuration any more (removed, or added by a dropped entry).
  void prune_progress() {
    for (auto it = prs.begin(); it != prs.end();) {
      if (member(it->first) == nullptr) {
        repairs_wanted.erase(it->first);
        it = prs.erase(it);
      } else {
        ++it;
      }
    }
  }

  // How many voters of `config` hold every committed entry (match >= commit; the leader holds its log).
  unsigned voters_holding_committed(const Membership& config) {
    unsigned n = 0;
    for (const Member& m : config.members) {
      if (!m.voter) continue;
      auto it = prs.find(m.id);
      const uint64_t match = m.id == cfg.id ? log.last_index() : (it == prs.end() ? 0 : it->second.match);
      if (match >= log.committed()) ++n;
    }
    return n;
  }

  // Raft's rule for single-member changes (Ongaro, raft-dev 2015): a new leader proposes a change only
  // once an entry of its term is on a majority of the voters, so that a conf entry of an earlier term that
  // it lacks can never commit any more. A majority is what that argument needs (elections count
  // majorities). Waiting for the entry to commit, i.e. for W holders, deadlocks when W = n and a voter is
  // gone for good: its removal, the only way out, would wait for it (3 members, k = 2, its leader lost).
  bool own_term_entry_on_majority() const {
    if (log.term_or_zero(log.committed()) == term) return true;
    unsigned voters = 0;
    unsigned holding = 0;
    for (const Member& m : membership().members) {
      if (!m.voter) continue;
      ++voters;
      uint64_t match = 0;
      if (m.id == cfg.id) {
        match = log.stable_last();
      } else if (auto it = prs.find(m.id); it != prs.end()) {
        match = it->second.match;
      }
      if (log.term_or_zero(match) == term) ++holding;
    }
    return holding >= voters / 2 + 1;
  }

  Result<ProposalId> propose_conf_change(ConfChange change) {
    if (role != Role::kLeader) {
      return make_error("raft.not_leader",
                        "this member is not the leader (leader: " + std::to_string(lead) + ")");
    }
    if (recovering) {
      return make_error("raft.leader_recovering",
                        "the new leader is still resolving entries of earlier terms; retry shortly");
    }
    if (transferee != kNoMember) {
      return make_error("raft.transfer_in_progress", "leadership is being transferred to member " +
                                                         std::to_string(transferee) + "; retry shortly");
    }
    if (confs.has_pending()) {
      return make_error("raft.conf_change_pending",
                        "another membership change is not committed yet (one at a time); retry shortly");
    }
    if (!own_term_entry_on_majority()) {
      return make_error("raft.conf_change_pending",
                        "the new leader's first entry is not on a majority of the voters yet; retry shortly");
    }
    auto next = apply_conf_change(membership(), change);
    if (!next) return next.error();
    if (change.type == ConfChangeType::kPromote) {
      auto it = prs.find(change.id);
      if (it == prs.end() || it->second.match < log.committed() || !it->second.recent_active) {
        return make_error("raft.learner_not_ready",
                          "learner " + std::to_string(change.id) +
                              " is not in sync with the leader yet (it lacks committed entries or was not "
                              "heard from recently); promote it once it has caught up");
      }
    }
    if (change.type == ConfChangeType::kPromote || change.type == ConfChangeType::kRemove) {
      // Every committed value must keep k holders among the voters that remain.
      const unsigned holders = voters_holding_committed(*next);
      if (holders < quorum.threshold) {
        return make_error("raft.too_few_holders", "only " + std::to_string(holders) +
                                                      " of the remaining voters hold every committed "
                                                      "entry, fewer than the threshold k=" +
                                                      std::to_string(quorum.threshold) +
                                                      "; wait until the others have caught up");
      }
    }
    if (change.type == ConfChangeType::kAddLearner && change.x == 0) change.x = next->members.back().x;
    Entry e;
    e.index = log.last_index() + 1;
    e.term = term;
    e.type = EntryType::kConfChange;
    e.metadata = encode_conf_change(change);
    append_to_log({e});
    proposals[e.index] = e.term;
    if (change.type == ConfChangeType::kAddLearner) add_progress(change.id);
    for (auto& [id, pr] : prs)
      if (id != cfg.id) send_append(id);
    return ProposalId{e.term, e.index};
  }

  Status transfer_leadership(MemberId to) {
    if (role != Role::kLeader) {
      return make_error("raft.not_leader",
                        "this member is not the leader (leader: " + std::to_string(lead) + ")");
    }
    const Member* target = member(to);
    if (!target) {
      return make_error("raft.unknown_member", "member " + std::to_string(to) + " is not in the membership");
    }
    if (!is_voter(to)) {
      return make_error("raft.not_voter",
                        "member " + std::to_string(to) + " is not a voter; only a voter can lead");
    }
    if (to == cfg.id) return Status::Ok();
    transferee = to;
    transfer_elapsed = 0;
    send_append(to);
    maybe_send_timeout_now();
    return Status::Ok();
  }

  Status check_restore(const SnapshotMeta& meta) const {
    if (meta.index > log.committed() && !log.match_term(meta.index, meta.term)) return Status::Ok();
    return make_error("raft.snapshot_stale", "this member already holds the log up to index " +
                                                 std::to_string(meta.index) +
                                                 "; the snapshot would only lose entries");
  }

  Status restore(const SnapshotMeta& meta) {
    if (meta.index <= log.committed()) {
      return make_error("raft.snapshot_stale", "snapshot at index " + std::to_string(meta.index) +
                                                   " is not beyond the commit index " +
                                                   std::to_string(log.committed()));
    }
    if (storage.snapshot_meta() != meta || storage.last_index() != meta.index) {
      return make_error("raft.snapshot_not_installed",
                        "storage does not start at this snapshot (install_snapshot it first)");
    }
    auto q = validate_membership(meta.membership);
    if (!q) return q.error();
    if (role != Role::kFollower) become_follower(term, role == Role::kLeader ? kNoMember : lead);
    log.restore(meta.index);
    confs = MembershipLog(meta.membership);
    confs.on_commit(meta.index, cfg.id);
    quorum = *q;
    if (const Member* me = member(cfg.id)) self_x = me->x;
    self_voter = is_voter(cfg.id) && !confs.removed_self();
    applying = meta.index;
    membership_changed = true;
    // The log these proposals were in is gone; later ones may still arrive from the leader.
    for (auto it = proposals.begin(); it != proposals.end() && it->first <= meta.index;) {
      dropped.push_back(ProposalId{it->second, it->first});
      it = proposals.erase(it);
    }
    own_corrupt.clear();
    share_repairs.clear();
    ++stats.snapshots_restored;
    return Status::Ok();
  }

  // ================= client API =================
  Result<ProposalId> propose(Bytes metadata, const std::vector<Bytes>& values) {
    if (role != Role::kLeader) {
      return make_error("raft.not_leader",
                        "this member is not the leader (leader: " + std::to_string(lead) + ")");
    }
    if (recovering) {
      return make_error("raft.leader_recovering",
                        "the new leader is still resolving entries of earlier terms; retry shortly");
    }
    if (!values.empty() && cache.pinned_bytes() >= cache.limit()) {
      return make_error("raft.too_many_inflight",
                        "too many proposals are not yet on k members (share cache full); retry shortly");
    }
    if (transferee != kNoMember) {
      return make_error("raft.transfer_in_progress", "leadership is being transferred to member " +
                                                         std::to_string(transferee) + "; retry shortly");
    }
    // Shares for every member of the newest configuration, learners and members being removed included.
    std::vector<uint8_t> xs;
    for (const Member& m : confs.latest().members) xs.push_back(m.x);
    for (const Member& m : membership().members)
      if (!find_in(confs.latest(), m.id)) xs.push_back(m.x);
    std::vector<std::vector<Bytes>> by_member(xs.size());
    Entry e;
    e.index = log.last_index() + 1;
    e.term = term;
    e.type = EntryType::kNormal;
    e.metadata = std::move(metadata);
    for (const Bytes& value : values) {
      auto shares = sharer.split(value, quorum.threshold, xs, rng);
      if (!shares) return shares.error();
      for (size_t j = 0; j < xs.size(); ++j) by_member[j].push_back(std::move((*shares)[j]));
    }
    for (size_t j = 0; j < xs.size(); ++j) {
      if (xs[j] == self_x) {
        e.shares = std::move(by_member[j]);
      } else if (!values.empty()) {
        cache.put(e.index, e.term, xs[j], std::move(by_member[j]), /*pin=*/true);
      }
    }
    stats.cache_evictions = cache.evictions();
    append_to_log({e});
    proposals[e.index] = e.term;
    for (auto& [id, pr] : prs)
      if (id != cfg.id) send_append(id);
    return ProposalId{e.term, e.index};
  }

  Status read_index(Bytes context, bool send_heartbeats) {
    if (role != Role::kLeader) {
      return make_error("raft.not_leader",
                        "this member is not the leader (leader: " + std::to_string(lead) + ")");
    }
    if (recovering || log.term_or_zero(log.committed()) != term) {
      return make_error("raft.leader_recovering",
                        "the new leader has not committed an entry of its term yet");
    }
    reads.push_back(PendingRead{context, log.committed(), {cfg.id}});
    if (voter_quorum() <= 1) {
      ack_read(cfg.id, context);
      return Status::Ok();
    }
    if (send_heartbeats) bcast_heartbeat(context);
    return Status::Ok();
  }

  void ack_leadership(MemberId from, uint64_t t, const Bytes& context) {
    if (role != Role::kLeader || t != term) return;
    auto it = prs.find(from);
    if (it == prs.end()) return;
    it->second.recent_active = true;
    ack_read(from, context);
  }

  void end_of_event() {
    apply_committed_confs();
    if (fetches.empty()) {
      cache.shrink();
    } else {
      cache.shrink([this](uint64_t index) {
        auto it = fetches.upper_bound(index);
        return it != fetches.begin() && std::prev(it)->second.last >= index;
      });
    }
    stats.cache_evictions = cache.evictions();
  }

  // ================= Ready =================
  SoftState soft_state() const { return SoftState{lead, role}; }
  HardState hard_state() const { return HardState{term, vote, log.committed()}; }

  bool has_ready() const {
    return soft_state() != prev_ss || hard_state() != prev_hs || !log.unstable_entries().empty() ||
           !msgs.empty() || log.committed() > applying || !read_states.empty() || !dropped.empty() ||
           !corrupt_reports.empty() || !share_repairs.empty() || membership_changed ||
           !snapshot_requests.empty();
  }

  Ready ready() {
    Ready rd;
    if (soft_state() != prev_ss) {
      rd.soft_state = soft_state();
      prev_ss = *rd.soft_state;
    }
    if (hard_state() != prev_hs) {
      rd.hard_state = hard_state();
      prev_hs = *rd.hard_state;
    }
    rd.entries = log.unstable_entries();
    if (log.committed() > applying) {
      auto committed = log.slice(applying + 1, log.committed() + 1, kMaxCommittedBytesPerReady);
      if (committed) {
        for (const Entry& e : *committed) {
          for (uint32_t v = 0; v < e.shares.size(); ++v) own_share_ok(e, v);
          for (auto it = proposals.begin(); it != proposals.end() && it->first <= e.index;) {
            if (it->first == e.index && it->second != e.term)
              dropped.push_back(ProposalId{it->second, it->first});
            it = proposals.erase(it);
          }
        }
        if (!committed->empty()) applying = committed->back().index;
        rd.committed_entries = std::move(*committed);
      }
    }
    if (membership_changed) {
      rd.membership = membership();
      membership_changed = false;
    }
    rd.share_repairs = std::move(share_repairs);
    rd.snapshot_requests = std::move(snapshot_requests);
    snapshot_requests.clear();
    rd.messages = std::move(msgs);
    rd.read_states = std::move(read_states);
    rd.dropped_proposals = std::move(dropped);
    rd.corrupt_shares = std::move(corrupt_reports);
    msgs.clear();
    read_states.clear();
    dropped.clear();
    corrupt_reports.clear();
    share_repairs.clear();
    return rd;
  }

  void advance(const Ready& rd) {
    if (!rd.entries.empty()) {
      log.stable_to(rd.entries.back().index, rd.entries.back().term);
      if (role == Role::kLeader) {
        Progress& self = prs[cfg.id];
        self.match = std::max(self.match, std::min(log.stable_last(), log.last_index()));
        if (maybe_commit()) bcast_append();
      }
    }
    apply_committed_confs();
  }
};

Result<std::unique_ptr<Node>> Node::create(const Config& config, const Storage& storage, SecretSharer& sharer,
                                           shamir::RandomSource& rng) {
  if (config.id == kNoMember) return make_error("raft.invalid_config", "member id 0 is reserved");
  if (config.heartbeat_tick == 0 || config.election_tick <= config.heartbeat_tick) {
    return make_error("raft.invalid_config", "election_tick must exceed heartbeat_tick, which must be >= 1");
  }
  if (config.max_inflight_messages == 0 || config.max_fetch_entries == 0) {
    return make_error("raft.invalid_config", "max_inflight_messages and max_fetch_entries must be >= 1");
  }
  if (auto bootstrap = validate_membership(storage.snapshot_meta().membership.members.empty()
                                               ? config.initial_membership
                                               : storage.snapshot_meta().membership);
      !bootstrap) {
    return bootstrap.error();
  }
  auto confs = MembershipLog::replay(storage, config.initial_membership, config.id);
  if (!confs) return confs.error();
  auto q = validate_membership(confs->committed());
  if (!q) return q.error();
  const Member* self = Impl::find_in(confs->latest(), config.id);
  if (!self) self = Impl::find_in(confs->committed(), config.id);
  if (self && config.self_x != 0 && self->x != config.self_x) {
    return make_error("raft.invalid_config",
                      "self_x=" + std::to_string(config.self_x) + " but the membership gives member " +
                          std::to_string(config.id) + " share index " + std::to_string(self->x));
  }
  if (!self && config.self_x == 0 && !confs->removed_self()) {
    return make_error("raft.invalid_membership",
                      "member " + std::to_string(config.id) +
                          " is not in the cluster membership (a joining member needs Config::self_x)");
  }
  if (!self && config.self_x != 0) {
    for (const Member& m : confs->latest().members) {
      if (m.x == config.self_x) {
        return make_error("raft.invalid_config", "self_x=" + std::to_string(config.self_x) +
                                                     " is the share index of member " + std::to_string(m.id));
      }
    }
  }
  auto impl = std::make_unique<Impl>(config, storage, sharer, rng, std::move(*confs), *q);
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;
void Node::tick() {
  impl_->tick();
  impl_->end_of_event();
}
Status Node::step(const Message& message) {
  Status s = impl_->step(message);
  impl_->end_of_event();
  return s;
}
Result<ProposalId> Node::propose(Bytes metadata, const std::vector<Bytes>& values) {
  auto r = impl_->propose(std::move(metadata), values);
  impl_->end_of_event();
  return r;
}
Status Node::read_index(Bytes context, bool send_heartbeats) {
  return impl_->read_index(std::move(context), send_heartbeats);
}
void Node::ack_leadership(MemberId from, uint64_t term, const Bytes& context) {
  impl_->ack_leadership(from, term, context);
}
void Node::campaign() {
  if (impl_->role != Role::kLeader) impl_->start_campaign(impl_->cfg.pre_vote);
}
bool Node::has_ready() const { return impl_->has_ready(); }
Ready Node::ready() { return impl_->ready(); }
void Node::advance(const Ready& ready) { impl_->advance(ready); }
const NodeStats& Node::stats() const { return impl_->stats; }
const Membership& Node::membership() const { return impl_->confs.latest(); }
uint64_t Node::match_of(MemberId to) const {
  if (impl_->role != Role::kLeader) return 0;
  auto it = impl_->prs.find(to);
  return it == impl_->prs.end() ? 0 : it->second.match;
}
const Membership& Node::committed_membership() const { return impl_->confs.committed(); }
bool Node::removed_self() const { return impl_->confs.removed_self(); }
Status Node::check_restore(const SnapshotMeta& meta) const { return impl_->check_restore(meta); }
Membership Node::membership_at(uint64_t index) const { return impl_->confs.at(index); }
void Node::report_snapshot(MemberId to, uint64_t index, bool ok) {
  impl_->report_snapshot(to, index, ok);
  impl_->end_of_event();
}
Status Node::restore(const SnapshotMeta& meta) {
  Status s = impl_->restore(meta);
  impl_->end_of_event();
  return s;
}

Result<ProposalId> Node::propose_conf_change(ConfChange change) {
  auto r = impl_->propose_conf_change(std::move(change));
  impl_->end_of_event();
  return r;
}

Status Node::transfer_leadership(MemberId to) {
  Status s = impl_->transfer_leadership(to);
  impl_->end_of_event();
  return s;
}

NodeStatus Node::status() const {
  NodeStatus s;
  s.id = impl_->cfg.id;
  s.role = impl_->role;
  s.leader = impl_->lead;
  s.term = impl_->term;
  s.commit = impl_->log.committed();
  s.applied = impl_->applying;
  s.last_index = impl_->log.last_index();
  s.recovering = impl_->recovering;
  s.quorum = impl_->quorum;
  s.x = impl_->self_x;
  s.voter = impl_->self_voter;
  s.transferee = impl_->transferee;
  s.conf_change_pending = impl_->confs.has_pending();
  return s;
}

}  // namespace etsecd::raft
