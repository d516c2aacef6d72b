#include "sim/simulator.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "etsecd/raft/node.h"
#include "etsecd/raft/quorum.h"
#include "sim/invariants.h"
#include "sim/network.h"
#include "tests/reference_secret_sharer.h"
#include "tests/reference_shamir.h"
#include "tests/test_random.h"

namespace etsecd::raft::sim {

void SimCounters::add(const SimCounters& o) {
  schedules += o.schedules;
  steps += o.steps;
  proposals += o.proposals;
  committed_entries += o.committed_entries;
  reads_confirmed += o.reads_confirmed;
  crashes += o.crashes;
  leader_changes += o.leader_changes;
  leader_killed_below_k += o.leader_killed_below_k;
  leader_killed_k_to_w += o.leader_killed_k_to_w;
  leader_killed_at_w += o.leader_killed_at_w;
  schedules_with_rebuild += o.schedules_with_rebuild;
  schedules_with_drop += o.schedules_with_drop;
  schedules_with_wait += o.schedules_with_wait;
  rebuilt_shares += o.rebuilt_shares;
  dropped_entries += o.dropped_entries;
  dropped_proposals += o.dropped_proposals;
  corruptions_injected += o.corruptions_injected;
  corruptions_detected += o.corruptions_detected;
  corruptions_repaired += o.corruptions_repaired;
  cache_evictions += o.cache_evictions;
  rebuilds_checked += o.rebuilds_checked;
  learners_added += o.learners_added;
  promotions += o.promotions;
  removals += o.removals;
  promotions_refused_not_ready += o.promotions_refused_not_ready;
  changes_refused_holders += o.changes_refused_holders;
  transfers_started += o.transfers_started;
  transfers_completed += o.transfers_completed;
  leader_removed_itself += o.leader_removed_itself;
  compactions += o.compactions;
  snapshot_requests += o.snapshot_requests;
  snapshots_installed += o.snapshots_installed;
  snapshots_interrupted += o.snapshots_interrupted;
  snapshots_source_gone += o.snapshots_source_gone;
  snapshots_target_gone += o.snapshots_target_gone;
  snapshots_failed_holders += o.snapshots_failed_holders;
  snapshots_refused_stale += o.snapshots_refused_stale;
  snapshot_reports_ignored += o.snapshot_reports_ignored;
}

std::string SimCounters::summary() const {
  auto s = [](uint64_t v) { return std::to_string(v); };
  return "schedules=" + s(schedules) + " steps=" + s(steps) + " proposals=" + s(proposals) +
         " committed=" + s(committed_entries) + " reads=" + s(reads_confirmed) + " crashes=" + s(crashes) +
         " leader_changes=" + s(leader_changes) + "\n" +
         "crux: leader killed after its value reached <k members: " + s(leader_killed_below_k) +
         ", k..W-1: " + s(leader_killed_k_to_w) + ", >=W: " + s(leader_killed_at_w) + "\n" +
         "recovery: schedules with rebuild-by-repair=" + s(schedules_with_rebuild) +
         " with drop-as-provably-uncommitted=" + s(schedules_with_drop) +
         " with wait=" + s(schedules_with_wait) + " (rebuilt shares=" + s(rebuilt_shares) +
         ", dropped entries=" + s(dropped_entries) + ", dropped proposals=" + s(dropped_proposals) + ")\n" +
         "integrity: corruptions injected=" + s(corruptions_injected) +
         " detected=" + s(corruptions_detected) + " repaired=" + s(corruptions_repaired) +
         "; share-cache evictions=" + s(cache_evictions) +
         "; k-subset rebuilds checked=" + s(rebuilds_checked) + "\n" +
         "membership: learners added=" + s(learners_added) + " promoted=" + s(promotions) +
         " removed=" + s(removals) + " (leaders removing themselves=" + s(leader_removed_itself) +
         "); refused: promote before catch-up=" + s(promotions_refused_not_ready) +
         ", too few holders=" + s(changes_refused_holders) + "; transfers started=" + s(transfers_started) +
         " completed=" + s(transfers_completed) + "\n" + "snapshots: compactions=" + s(compactions) +
         " requests=" + s(snapshot_requests) + " installed=" + s(snapshots_installed) +
         " interrupted mid-stream=" + s(snapshots_interrupted) +
         " (before it: leader down=" + s(snapshots_source_gone) +
         ", target down=" + s(snapshots_target_gone) +
         ", fewer than k intact shares=" + s(snapshots_failed_holders) + ")" +
         " refused as stale=" + s(snapshots_refused_stale) +
         " stale reports ignored=" + s(snapshot_reports_ignored);
}

namespace {

struct SimMember {
  // kJoining: its AddLearner is appended but not committed, so its host has not started it yet;
  // kAbandoned: that entry was dropped; kRemoved: its removal committed and its host stopped it.
  enum class State : uint8_t { kActive, kJoining, kAbandoned, kRemoved };
  MemberId id = kNoMember;
  uint8_t x = 0;
  State state = State::kActive;
  ProposalId joined_by;               // kJoining: the AddLearner entry
  bool proposed_own_removal = false;  // as leader
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  StateMachine state_machine;  // its KV store: durable, kept across crashes
  std::unique_ptr<testing::TestRandom> rng;
  bool voter = true;
  std::unique_ptr<Node> node;  // null while crashed
  NodeStats past;              // counters of earlier incarnations
};

class Schedule {
 public:
  explicit Schedule(const SimConfig& config) : cfg_(config), rng_(config.seed), net_(rng_) {
#ifdef ETSECD_RAFT_HAVE_SHAMIR
    if (cfg_.production_codec) production_ = make_shamir_secret_sharer();
#endif
  }

  SimResult run() {
    setup();
    for (unsigned s = 0; s < cfg_.steps && failure_.empty(); ++s) step(/*faulty=*/true);
    if (failure_.empty()) final_phase();
    if (failure_.empty()) fail_if(checker_->check_committed(views(), rng_, 0, /*all=*/true));
    for (const SimMemberView& v : all_views())
      if (failure_.empty()) fail_if(checker_->scan_for_plaintext(v));
    return finish();
  }

 private:
  // ---------------- setup ----------------
  void setup() {
    const unsigned sizes[] = {3, 5, 7};
    n_ = cfg_.members ? cfg_.members : sizes[rng_.below(3)];
    k_ = 2 + static_cast<unsigned>(rng_.below(n_ - 1));
    const unsigned lo = min_commit_quorum(n_, k_);
    const unsigned requested = rng_.chance(0.5) ? 0 : lo + static_cast<unsigned>(rng_.below(n_ - lo + 1));
    std::vector<MemberId> ids;
    for (unsigned i = 0; i < n_; ++i) ids.push_back(10 + i);
    auto membership = initial_membership(ids, k_, requested);
    w_ = validate_membership(*membership)->commit_quorum;
    if (rng_.chance(0.3)) {
      // A learner: gets its own shares, never votes, never counts toward W.
      const MemberId learner = 10 + n_;
      ids.push_back(learner);
      membership->members.push_back(Member{learner, static_cast<uint8_t>(n_ + 1), false, {}});
      membership->max_x_used = static_cast<uint8_t>(n_ + 1);
    }
    node_cfg_.initial_membership = *membership;
    node_cfg_.election_tick = 10;
    node_cfg_.heartbeat_tick = 1 + static_cast<unsigned>(rng_.below(2));
    const uint64_t cache_sizes[] = {150, 1000, 1 << 20};
    node_cfg_.share_cache_bytes = cache_sizes[rng_.below(3)];
    const unsigned fetch_sizes[] = {1, 4, 64};
    node_cfg_.max_fetch_entries = fetch_sizes[rng_.below(3)];
    const unsigned inflight[] = {1, 4, 256};
    node_cfg_.max_inflight_messages = inflight[rng_.below(3)];
    node_cfg_.max_bytes_per_message = rng_.chance(0.3) ? 200 : 1 << 20;
    const double losses[] = {0.0, 0.05, 0.15};
    faults_.loss = losses[rng_.below(3)];
    faults_.duplicate = rng_.chance(0.5) ? 0.05 : 0.0;
    const unsigned delays[] = {1, 2, 4};
    faults_.max_delay = delays[rng_.below(3)];
    net_.set_faults(faults_);
    checker_ = std::make_unique<InvariantChecker>(*membership);
    next_id_ = 10 + static_cast<MemberId>(ids.size());
    members_.resize(ids.size());
    for (unsigned i = 0; i < ids.size(); ++i) {
      members_[i].id = ids[i];
      members_[i].x = static_cast<uint8_t>(i + 1);
      members_[i].voter = i < n_;
      start(members_[i]);
    }
    log("cluster n=" + std::to_string(n_) + " k=" + std::to_string(k_) + " W=" + std::to_string(w_) +
        " learners=" + std::to_string(ids.size() - n_));
  }

  void start(SimMember& m) {
    m.rng = std::make_unique<testing::TestRandom>(rng_.next());
    Config c = node_cfg_;
    c.id = m.id;
    if (m.id >= first_joined_id()) c.self_x = m.x;  // joined later: not in the bootstrap membership
    SecretSharer& sharer = production_ ? *production_ : static_cast<SecretSharer&>(sharer_);
    auto node = Node::create(c, *m.storage, sharer, *m.rng);
    if (!node) {
      fail_if("node start failed: " + node.error().message);
      return;
    }
    m.node = std::move(*node);
  }

  // A shutdown that is not a fault (end of schedule, removed member).
  void stop(SimMember& m) {
    if (!m.node) return;
    crash(m);
    --counters_.crashes;
  }

  void crash(SimMember& m) {
    if (!m.node) return;
    const NodeStats& s = m.node->stats();
    m.past.recovery_rebuilt_shares += s.recovery_rebuilt_shares;
    m.past.recovery_drop_events += s.recovery_drop_events;
    m.past.recovery_dropped_entries += s.recovery_dropped_entries;
    m.past.recovery_waits += s.recovery_waits;
    m.past.corrupt_shares_detected += s.corrupt_shares_detected;
    m.past.cache_evictions += s.cache_evictions;
    m.node.reset();
    ++counters_.crashes;
    log("crash m" + std::to_string(m.id));
  }

  // ---------------- one step ----------------
  void step(bool faulty) {
    ++now_;
    ++counters_.steps;
    for (SimMember& m : members_)
      if (m.node && rng_.chance(0.4)) m.node->tick();
    for (Message& msg : net_.take_due(now_)) deliver(msg);
    if (faulty)
      act();
    else if (rng_.chance(0.1))
      propose();
    for (SimMember& m : members_) process(m, nullptr);
    run_repairs(faulty);
    follow_membership();
    check_step();
    if (net_.in_flight() > 20000) fail_if("message storm: more than 20000 messages in flight");
  }

  // What hosts and the operator do once a change commits: start a member whose AddLearner committed
  // (with its assigned x), stop a removed one for good.
  void follow_membership() {
    const Membership& current = checker_->membership();
    auto in_current = [&](MemberId id) {
      return std::any_of(current.members.begin(), current.members.end(),
                         [id](const Member& x) { return x.id == id; });
    };
    for (SimMember& m : members_) {
      if (m.state == SimMember::State::kJoining) {
        auto t = checker_->committed_term(m.joined_by.index);
        if (!t) continue;
        if (*t != m.joined_by.term) {
          m.state = SimMember::State::kAbandoned;
          log("join of m" + std::to_string(m.id) + " abandoned (its entry was dropped)");
          continue;
        }
        m.state = SimMember::State::kActive;
        start(m);
        log("joined m" + std::to_string(m.id) + " x=" + std::to_string(m.x));
      } else if (m.state == SimMember::State::kActive && !in_current(m.id)) {
        if (m.proposed_own_removal) ++counters_.leader_removed_itself;
        stop(m);
        m.state = SimMember::State::kRemoved;
        ++counters_.removals;
        log("removed m" + std::to_string(m.id));
      }
    }
    for (const Member& m : current.members) {
      SimMember* sm = find(m.id);
      if (sm && m.voter && !sm->voter) {
        sm->voter = true;
        ++counters_.promotions;
      }
    }
  }

  void deliver(const Message& msg) {
    SimMember* to = find(msg.to);
    if (!to || !to->node) return;
    if (cfg_.trace) {
      log("deliver " + std::string(to_string(msg.type)) + " m" + std::to_string(msg.from) + "->m" +
          std::to_string(msg.to) + " term=" + std::to_string(msg.term) +
          " index=" + std::to_string(msg.index) + " n=" + std::to_string(msg.entries.size()) +
          " items=" + std::to_string(msg.share_items.size()) + " last=" + std::to_string(msg.fetch_last) +
          (msg.reject ? " reject" : ""));
    }
    Status st = to->node->step(msg);
    if (!st && st.error().code == "raft.unknown_member") {
      // Right for a sender the recipient's configuration no longer (or does not yet) include: a
      // removed member's late messages; a host logs and drops them.
      const auto& known = to->node->membership().members;
      const bool is_known =
          std::any_of(known.begin(), known.end(), [&](const Member& x) { return x.id == msg.from; });
      if (!is_known) return;
    }
    if (!st) fail_if("step failed: " + st.error().message);
  }

  void act() {
    const uint64_t r = rng_.below(1000);
    if (r < 150) {
      propose();
    } else if (r < 180) {
      read();
    } else if (r < 186) {
      auto up = members_where(true);
      if (!up.empty()) crash(*up[rng_.below(up.size())]);
    } else if (r < 206) {
      auto down = members_where(false);
      if (!down.empty()) {
        start(*down[rng_.below(down.size())]);
        log("restart");
      }
    } else if (r < 212) {
      std::map<MemberId, int> groups;
      for (SimMember& m : members_) groups[m.id] = static_cast<int>(rng_.below(2));
      net_.partition(groups);
      log("partition");
    } else if (r < 232) {
      net_.heal();
      log("heal");
    } else if (r < 242) {
      kill_leader_mid_replication();
    } else if (r < 245) {
      corrupt_a_share();
    } else if (r < 250) {
      add_learner();
    } else if (r < 256) {
      promote_learner();
    } else if (r < 260) {
      remove_member();
    } else if (r < 264) {
      transfer_leadership();
    } else if (r < 284) {
      compact_a_log();
    }
  }

  // ---------------- compaction and share-repair snapshots ----------------
  // A host compacts its log up to a random index its KV store (state machine) already applied.
  void compact_a_log() {
    auto up = members_where(true);
    if (up.empty()) return;
    SimMember& m = *up[rng_.below(up.size())];
    const uint64_t applied = m.node->status().applied;
    const uint64_t snap = m.storage->snapshot_meta().index;
    if (applied <= snap || m.state_machine.empty() || m.state_machine.rbegin()->first < applied) return;
    const uint64_t index = snap + 1 + rng_.below(applied - snap);
    Status st = m.storage->compact(index, m.node->membership_at(index));
    if (!st) {
      fail_if("compaction failed: " + st.error().message);
      return;
    }
    ++counters_.compactions;
    log("compact m" + std::to_string(m.id) + " through " + std::to_string(index));
  }

  struct PendingRepair {
    MemberId leader = kNoMember;
    MemberId target = kNoMember;
    uint64_t due = 0;
  };

  // The host's share-repair stream (node/repair), played at once when due: the target's share of every
  // applied entry <= the leader's applied index A, computed from k other members' state machines.
  void run_repairs(bool faulty) {
    for (size_t j = 0; j < repairs_.size();) {
      if (repairs_[j].due > now_) {
        ++j;
        continue;
      }
      const PendingRepair r = repairs_[j];
      repairs_.erase(repairs_.begin() + static_cast<long>(j));
      run_repair(r, faulty);
    }
  }

  void report(SimMember* l, MemberId target, uint64_t index, bool ok) {
    if (!l || !l->node) return;
    const uint64_t before = l->node->stats().snapshots_reported;
    l->node->report_snapshot(target, index, ok);
    if (l->node->stats().snapshots_reported == before) ++counters_.snapshot_reports_ignored;
  }

  void run_repair(const PendingRepair& r, bool faulty) {
    SimMember* l = find(r.leader);
    SimMember* t = find(r.target);
    if (!l || !l->node) {
      ++counters_.snapshots_source_gone;  // the stream's source is gone: nobody reports
      return;
    }
    if (!t || !t->node || t->state != SimMember::State::kActive) {
      ++counters_.snapshots_target_gone;
      report(l, r.target, 0, false);
      return;
    }
    if (faulty && rng_.chance(0.1)) {
      crash(*t);  // mid-stream: the leader's host sees the stream break
      ++counters_.snapshots_interrupted;
      report(l, r.target, 0, false);
      log("repair of m" + std::to_string(t->id) + " interrupted: target crashed");
      return;
    }
    if (faulty && rng_.chance(0.05)) {
      crash(*l);  // the leader's host dies mid-stream: no report ever
      ++counters_.snapshots_interrupted;
      log("repair of m" + std::to_string(t->id) + " interrupted: leader crashed");
      return;
    }
    const uint64_t a = l->node->status().applied;
    auto a_term = l->storage->term(a);
    if (!a_term) {
      fail_if("leader's applied index " + std::to_string(a) + " has no term: " + a_term.error().message);
      return;
    }
    const SnapshotMeta meta{a, *a_term, l->node->membership_at(a)};
    if (!t->node->check_restore(meta)) {
      // It caught up meanwhile: it holds everything up to A already. Either report is right.
      ++counters_.snapshots_refused_stale;
      const bool ok = rng_.chance(0.5);
      report(l, r.target, ok ? a : 0, ok);
      log("repair of m" + std::to_string(t->id) + " refused as stale, reported " + (ok ? "ok" : "failure"));
      return;
    }
    StateMachine repaired;
    for (uint64_t i = 1; i <= a; ++i) {
      auto src = l->state_machine.find(i);
      if (src == l->state_machine.end()) {
        fail_if("leader m" + std::to_string(l->id) + " state machine lacks applied index " +
                std::to_string(i));
        return;
      }
      Entry e = src->second;
      for (uint32_t v = 0; v < e.shares.size(); ++v) {
        std::vector<Bytes> inputs;
        for (SimMember& o : members_) {
          if (&o == t || o.state != SimMember::State::kActive || inputs.size() >= k_) continue;
          auto held = o.state_machine.find(i);
          if (held == o.state_machine.end() || held->second.term != e.term) continue;
          if (testing::ref_decode(held->second.shares[v])) inputs.push_back(held->second.shares[v]);
        }
        auto share = inputs.size() >= k_ ? sharer().repair_at(inputs, k_, t->x)
                                         : Result<Bytes>(make_error("sim.too_few", ""));
        if (!share) {
          ++counters_.snapshots_failed_holders;
          report(l, r.target, 0, false);
          log("repair of m" + std::to_string(t->id) + " failed: fewer than k intact shares of index " +
              std::to_string(i));
          return;
        }
        e.shares[v] = std::move(*share);
      }
      repaired.emplace(i, std::move(e));
    }
    t->storage->install_snapshot(meta);
    t->state_machine = std::move(repaired);
    Status st = t->node->restore(meta);
    if (!st) {
      fail_if("restore failed after check_restore passed: " + st.error().message);
      return;
    }
    fail_if(check_restored(*t, *l, a));
    ++counters_.snapshots_installed;
    log("repair of m" + std::to_string(t->id) + " installed at " + std::to_string(a) + " from m" +
        std::to_string(l->id));
    process(*t, nullptr);
    report(l, r.target, a, true);
  }

  // A restored member's state equals the leader's at A: the same entries, each with its own shares.
  std::string check_restored(const SimMember& t, const SimMember& l, uint64_t a) const {
    for (const auto& [i, e] : t.state_machine) {
      auto src = l.state_machine.find(i);
      if (i > a || src == l.state_machine.end() || src->second.term != e.term ||
          src->second.metadata != e.metadata || src->second.type != e.type ||
          src->second.shares.size() != e.shares.size()) {
        return "restored member m" + std::to_string(t.id) + " differs from the leader at index " +
               std::to_string(i);
      }
      for (const Bytes& share : e.shares) {
        auto d = testing::ref_decode(share);
        if (!d || d->share.x != t.x)
          return "restored member m" + std::to_string(t.id) + " got a foreign share";
      }
    }
    if (t.state_machine.size() != a) return "restored member m" + std::to_string(t.id) + " lacks entries";
    if (t.node->status().commit != a || t.node->status().applied != a)
      return "restored member's commit is not A";
    return "";
  }

  SecretSharer& sharer() { return production_ ? *production_ : static_cast<SecretSharer&>(sharer_); }

  // ---------------- membership changes ----------------
  MemberId first_joined_id() const {
    return 10 + static_cast<MemberId>(node_cfg_.initial_membership.members.size());
  }

  void add_learner() {
    SimMember* l = leader();
    if (!l || members_.size() >= 12) return;
    const MemberId id = next_id_;
    auto p = l->node->propose_conf_change(ConfChange{ConfChangeType::kAddLearner, id, 0, {}});
    if (!p) return;
    ++next_id_;
    SimMember& m = members_.emplace_back();
    m.id = id;
    for (const Member& x : l->node->membership().members)
      if (x.id == id) m.x = x.x;
    m.voter = false;
    m.state = SimMember::State::kJoining;
    m.joined_by = *p;
    ++counters_.learners_added;
    log("add learner m" + std::to_string(id) + " x=" + std::to_string(m.x) + " at index " +
        std::to_string(p->index));
  }

  void promote_learner() {
    SimMember* l = leader();
    if (!l) return;
    std::vector<MemberId> learners;
    for (const Member& m : l->node->committed_membership().members)
      if (!m.voter) learners.push_back(m.id);
    if (learners.empty()) return;
    const MemberId id = learners[rng_.below(learners.size())];
    auto p = l->node->propose_conf_change(ConfChange{ConfChangeType::kPromote, id, 0, {}});
    if (!p && p.error().code == "raft.learner_not_ready") ++counters_.promotions_refused_not_ready;
    if (!p && p.error().code == "raft.too_few_holders") ++counters_.changes_refused_holders;
    if (p) log("promote m" + std::to_string(id) + " at index " + std::to_string(p->index));
  }

  void remove_member() {
    SimMember* l = leader();
    if (!l) return;
    const auto& members = l->node->committed_membership().members;
    MemberId id = members[rng_.below(members.size())].id;
    if (rng_.chance(0.5)) {
      // The most up-to-date other member: removing a holder while others lag is what the k-holder
      // check is for.
      uint64_t best = 0;
      for (const Member& m : members) {
        SimMember* sm = find(m.id);
        if (!sm || sm == l || sm->state != SimMember::State::kActive) continue;
        if (sm->storage->last_index() >= best) {
          best = sm->storage->last_index();
          id = m.id;
        }
      }
    }
    if (!rebuildable_without(id)) return;
    auto p = l->node->propose_conf_change(ConfChange{ConfChangeType::kRemove, id, 0, {}});
    if (!p && p.error().code == "raft.too_few_holders") ++counters_.changes_refused_holders;
    if (p) log("remove m" + std::to_string(id) + " at index " + std::to_string(p->index));
    if (p && id == l->id) l->proposed_own_removal = true;
  }

  // Injected corruption that nobody has detected yet is invisible to the leader's removal check, so
  // the simulator (like an operator who scrubs first) does not remove a member while a value it holds
  // has a corrupt share elsewhere and fewer than k + 1 intact ones. Everything else is the core's
  // decision (raft.too_few_holders).
  bool rebuildable_without(MemberId id) {
    SimMember* target = find(id);
    if (!target) return true;
    std::vector<const Entry*> own;  // its log and, before it, its state machine
    for (const auto& [i, e] : target->state_machine)
      if (i <= target->storage->snapshot_meta().index) own.push_back(&e);
    for (const Entry& e : target->storage->stored_entries()) own.push_back(&e);
    for (const Entry* entry : own) {
      const Entry& e = *entry;
      for (uint32_t v = 0; v < e.shares.size(); ++v) {
        unsigned intact = 0;
        unsigned holders = 0;
        for (SimMember& o : members_) {
          if (o.id == id || o.state != SimMember::State::kActive) continue;
          Entry scratch;
          const Entry* held = held_entry(view(o), e.index, e.term, scratch);
          if (!held) continue;
          ++holders;
          if (testing::ref_decode(held->shares[v])) ++intact;
        }
        if (intact < holders && intact < k_ + 1) return false;
      }
    }
    return true;
  }

  void transfer_leadership() {
    SimMember* l = leader();
    if (!l) return;
    std::vector<MemberId> voters;
    for (const Member& m : l->node->committed_membership().members)
      if (m.voter && m.id != l->id) voters.push_back(m.id);
    if (voters.empty()) return;
    const MemberId to = voters[rng_.below(voters.size())];
    if (!l->node->transfer_leadership(to)) return;
    ++counters_.transfers_started;
    pending_transfer_ = to;
    pending_transfer_term_ = l->node->status().term;
    log("transfer leadership m" + std::to_string(l->id) + " -> m" + std::to_string(to));
  }

  SimMember* leader() {
    SimMember* best = nullptr;
    for (SimMember& m : members_) {
      if (!m.node || m.node->status().role != Role::kLeader) continue;
      if (!best || m.node->status().term > best->node->status().term) best = &m;
    }
    return best;
  }

  std::optional<ProposalId> propose() {
    SimMember* l = leader();
    if (!l) return std::nullopt;
    std::vector<Bytes> values(1 + rng_.below(3));
    for (Bytes& v : values) {
      v.resize(16 + rng_.below(25));
      rng_.fill(v);
    }
    const std::string key = "put key-" + std::to_string(rng_.below(1000));
    auto id = l->node->propose(Bytes(key.begin(), key.end()), values);
    if (!id) return std::nullopt;  // not ready yet: a client would retry
    checker_->record_proposal(*id, values);
    ++counters_.proposals;
    log("propose m" + std::to_string(l->id) + " index=" + std::to_string(id->index) +
        " term=" + std::to_string(id->term));
    return *id;
  }

  void read() {
    SimMember* l = leader();
    if (!l) return;
    const std::string ctx = "read-" + std::to_string(++read_seq_);
    Bytes context(ctx.begin(), ctx.end());
    const bool heartbeats = rng_.chance(0.5);
    if (!l->node->read_index(context, heartbeats)) return;
    reads_[context] = checker_->committed_index();
    if (!heartbeats) {
      // The host's own share-fetch RPC doubles as the leadership check: a member answers with its
      // term and leader, and the leader's host reports the acknowledgement.
      const NodeStatus ls = l->node->status();
      for (SimMember& m : members_) {
        if (&m == l || !m.node || !net_.connected(l->id, m.id) || rng_.chance(faults_.loss)) continue;
        const NodeStatus s = m.node->status();
        if (s.term == ls.term && s.leader == l->id) l->node->ack_leadership(m.id, s.term, context);
      }
    }
  }

  // The crux: the leader proposes, its append reaches a random number of followers (which persist it
  // but whose answers are lost), and the leader dies before learning anything more.
  void kill_leader_mid_replication() {
    SimMember* l = leader();
    if (!l || l->node->status().recovering) return;
    auto id = propose();
    if (!id) return;
    std::vector<Message> held;
    process(*l, &held);
    std::vector<SimMember*> followers;
    for (SimMember& m : members_)
      if (&m != l && m.node) followers.push_back(&m);
    for (size_t i = followers.size(); i > 1; --i) std::swap(followers[i - 1], followers[rng_.below(i)]);
    const size_t reach = rng_.below(followers.size() + 1);
    for (size_t i = 0; i < reach; ++i) {
      for (const Message& msg : held) {
        if (msg.to != followers[i]->id || msg.type != MessageType::kAppend) continue;
        deliver(msg);
        std::vector<Message> lost;
        process(*followers[i], &lost);
      }
    }
    crash(*l);
    unsigned holders = 0;  // any member's share helps rebuild; only voters count toward W
    unsigned voter_holders = 0;
    for (SimMember& m : members_) {
      if (m.state != SimMember::State::kActive) continue;
      auto t = m.storage->term(id->index);
      if (t && *t == id->term) {
        ++holders;
        voter_holders += m.voter;
      }
    }
    if (holders < k_) {
      ++counters_.leader_killed_below_k;
    } else if (voter_holders < checker_->commit_quorum()) {
      ++counters_.leader_killed_k_to_w;
    } else {
      ++counters_.leader_killed_at_w;
    }
    log("killed leader after its value reached " + std::to_string(holders) + " members");
  }

  void corrupt_a_share() {
    auto active = members_where(true);
    if (active.empty()) return;
    SimMember& m = *active[rng_.below(active.size())];
    const auto& entries = m.storage->stored_entries();
    if (entries.empty()) return;
    const Entry& e = entries[rng_.below(entries.size())];
    if (e.shares.empty()) return;
    const uint32_t v = static_cast<uint32_t>(rng_.below(e.shares.size()));
    unsigned intact = 0;
    for (SimMember& o : members_) {
      if (o.state != SimMember::State::kActive) continue;
      Entry scratch;
      const Entry* held = held_entry(view(o), e.index, e.term, scratch);
      if (held && testing::ref_decode(held->shares[v])) ++intact;
    }
    // Keep every value rebuildable, even after the removal of one more holder (a pending change).
    if (intact <= k_ + 1 || !testing::ref_decode(e.shares[v])) return;
    auto& mutable_entries = m.storage->mutable_entries_for_testing();
    Bytes& share = mutable_entries[e.index - m.storage->first_index()].shares[v];
    share[7 + rng_.below(share.size() - 11)] ^= static_cast<uint8_t>(1 + rng_.below(255));
    ++counters_.corruptions_injected;
    log("corrupt m" + std::to_string(m.id) + " index=" + std::to_string(e.index));
  }

  // Persist, then send: exactly the host loop of node.h. `capture` keeps messages instead of sending.
  void process(SimMember& m, std::vector<Message>* capture) {
    if (!m.node) return;
    while (m.node->has_ready() && failure_.empty()) {
      Ready rd = m.node->ready();
      if (rd.hard_state) m.storage->set_hard_state(*rd.hard_state);
      if (!rd.entries.empty()) {
        if (cfg_.trace) {
          std::string line = "persist m" + std::to_string(m.id) +
                             " hs.commit=" + std::to_string(rd.hard_state ? rd.hard_state->commit : 0);
          for (const Entry& e : rd.entries)
            line += " (" + std::to_string(e.index) + "," + std::to_string(e.term) + ")";
          log(line);
        }
        fail_if(checker_->on_persist(view(m), rd.entries));
        Status st = m.storage->append(rd.entries);
        if (!st) fail_if("storage append failed: " + st.error().message);
      }
      for (const ShareRepair& r : rd.share_repairs) {
        // The log's copy, unless compacted meanwhile, and the KV store's copy if already applied.
        if (r.index > m.storage->snapshot_meta().index) {
          Status st = m.storage->replace_share(r.index, r.term, r.value, r.share);
          if (!st) fail_if("share repair failed: " + st.error().message);
        }
        auto sm = m.state_machine.find(r.index);
        if (sm != m.state_machine.end() && sm->second.term == r.term) sm->second.shares.at(r.value) = r.share;
        ++counters_.corruptions_repaired;
      }
      for (const SnapshotRequest& req : rd.snapshot_requests) {
        ++counters_.snapshot_requests;
        repairs_.push_back(PendingRepair{m.id, req.to, now_ + 1 + rng_.below(8)});
        log("snapshot request m" + std::to_string(m.id) + " for m" + std::to_string(req.to));
      }
      for (Message& msg : rd.messages) {
        if (capture) {
          capture->push_back(std::move(msg));
        } else {
          net_.send(std::move(msg), now_);
        }
      }
      for (const Entry& e : rd.committed_entries) {
        log("apply m" + std::to_string(m.id) + " (" + std::to_string(e.index) + "," + std::to_string(e.term) +
            ")");
        fail_if(checker_->on_apply(m.id, e));
        m.state_machine[e.index] = e;
      }
      for (const ReadState& rs : rd.read_states) {
        auto it = reads_.find(rs.context);
        if (it == reads_.end()) {
          fail_if("read state for an unknown context");
          continue;
        }
        fail_if(checker_->on_read(rs.index, it->second));
        ++counters_.reads_confirmed;
      }
      counters_.dropped_proposals += rd.dropped_proposals.size();
      m.node->advance(rd);
    }
  }

  void check_step() {
    if (!failure_.empty()) return;
    for (SimMember& m : members_) {
      if (!m.node || m.node->status().role != Role::kLeader) continue;
      const NodeStatus s = m.node->status();
      fail_if(checker_->on_leader(m.id, s.term));
      fail_if(checker_->check_leader_log(m.id, s.term, *m.storage));
      if (s.term > last_leader_term_) {
        last_leader_term_ = s.term;
        ++counters_.leader_changes;
        if (m.id == pending_transfer_ && s.term == pending_transfer_term_ + 1)
          ++counters_.transfers_completed;
        pending_transfer_ = kNoMember;
        log("leader m" + std::to_string(m.id) + " term=" + std::to_string(s.term));
      }
    }
    fail_if(checker_->check_committed(views(), rng_, 1, false));
  }

  // Heal everything, restart everyone, and require progress: a fresh proposal must commit.
  void final_phase() {
    net_.heal();
    net_.set_faults(NetworkFaults{0.0, 0.0, 1});
    for (SimMember& m : members_)
      if (!m.node && m.state == SimMember::State::kActive) start(m);
    std::optional<ProposalId> last;
    for (unsigned s = 0; s < 600 && failure_.empty(); ++s) {
      ++now_;
      ++counters_.steps;
      for (SimMember& m : members_)
        if (m.node && rng_.chance(0.5)) m.node->tick();
      for (Message& msg : net_.take_due(now_)) deliver(msg);
      SimMember* l = leader();
      if (l && (!last || l->node->status().term > last->term)) {
        if (auto id = propose()) last = id;
      }
      for (SimMember& m : members_) process(m, nullptr);
      run_repairs(/*faulty=*/false);
      follow_membership();
      check_step();
      if (last) {
        auto t = checker_->committed_term(last->index);
        if (t && *t == last->term) return;
      }
    }
    std::string state;
    for (SimMember& m : members_) {
      if (!m.node) continue;
      const NodeStatus st = m.node->status();
      state += " m" + std::to_string(m.id) + "[" + to_string(st.role) + " term=" + std::to_string(st.term) +
               " commit=" + std::to_string(st.commit) + " last=" + std::to_string(st.last_index) +
               (st.recovering ? " recovering" : "") + "]";
    }
    if (SimMember* l = leader()) {
      const NodeStats& st = l->node->stats();
      state += " leader stats: fetches=" + std::to_string(st.share_fetches_sent) +
               " rejected=" + std::to_string(st.rejected_messages) +
               " repaired=" + std::to_string(st.repaired_shares) +
               " corrupt=" + std::to_string(st.corrupt_shares_detected) +
               " evictions=" + std::to_string(st.cache_evictions);
      auto r = l->node->propose({}, {Bytes(16, 1)});
      if (!r) state += " propose: " + r.error().message;
    }
    fail_if("liveness: no proposal committed within 600 fault-free steps after healing; k=" +
            std::to_string(k_) + " W=" + std::to_string(checker_->commit_quorum()) +
            " cache=" + std::to_string(node_cfg_.share_cache_bytes) +
            " fetch=" + std::to_string(node_cfg_.max_fetch_entries) + state);
  }

  SimResult finish() {
    SimResult r;
    r.seed = cfg_.seed;
    r.failure = failure_;
    counters_.schedules = 1;
    counters_.committed_entries = checker_ ? checker_->committed_index() : 0;
    counters_.rebuilds_checked = checker_ ? checker_->rebuilds_checked() : 0;
    NodeStats total;
    for (SimMember& m : members_) {
      stop(m);
      total.recovery_rebuilt_shares += m.past.recovery_rebuilt_shares;
      total.recovery_drop_events += m.past.recovery_drop_events;
      total.recovery_dropped_entries += m.past.recovery_dropped_entries;
      total.recovery_waits += m.past.recovery_waits;
      total.corrupt_shares_detected += m.past.corrupt_shares_detected;
      total.cache_evictions += m.past.cache_evictions;
    }
    counters_.rebuilt_shares = total.recovery_rebuilt_shares;
    counters_.dropped_entries = total.recovery_dropped_entries;
    counters_.schedules_with_rebuild = total.recovery_rebuilt_shares > 0;
    counters_.schedules_with_drop = total.recovery_drop_events > 0;
    counters_.schedules_with_wait = total.recovery_waits > 0;
    counters_.corruptions_detected = total.corrupt_shares_detected;
    counters_.cache_evictions = total.cache_evictions;
    r.counters = counters_;
    r.trace = std::move(trace_);
    return r;
  }

  // ---------------- helpers ----------------
  SimMember* find(MemberId id) {
    for (SimMember& m : members_)
      if (m.id == id) return &m;
    return nullptr;
  }
  std::vector<SimMember*> members_where(bool up) {
    std::vector<SimMember*> out;
    for (SimMember& m : members_)
      if (m.state == SimMember::State::kActive && static_cast<bool>(m.node) == up) out.push_back(&m);
    return out;
  }
  SimMemberView view(const SimMember& m) const {
    return SimMemberView{m.id, m.x, m.storage.get(), m.voter, &m.state_machine};
  }
  // Members whose storage counts: removed members' shares are gone for the cluster (their hosts wipe
  // them), members not started yet hold nothing.
  std::vector<SimMemberView> views() const {
    std::vector<SimMemberView> out;
    for (const SimMember& m : members_)
      if (m.state == SimMember::State::kActive) out.push_back(view(m));
    return out;
  }
  // Every storage ever written, for the secrecy scan.
  std::vector<SimMemberView> all_views() const {
    std::vector<SimMemberView> out;
    for (const SimMember& m : members_) out.push_back(view(m));
    return out;
  }
  void fail_if(const std::string& error) {
    if (!error.empty() && failure_.empty()) failure_ = error + " (step " + std::to_string(now_) + ")";
  }
  void log(const std::string& line) {
    if (cfg_.trace) trace_.push_back("t=" + std::to_string(now_) + " " + line);
  }

  SimConfig cfg_;
  testing::TestRandom rng_;
  testing::ReferenceSecretSharer sharer_;
  std::unique_ptr<SecretSharer> production_;
  Network net_;
  NetworkFaults faults_;
  Config node_cfg_;
  unsigned n_ = 0, k_ = 0, w_ = 0;
  std::deque<SimMember> members_;  // a deque: references stay valid when members join
  std::vector<PendingRepair> repairs_;
  MemberId next_id_ = 0;
  MemberId pending_transfer_ = kNoMember;
  uint64_t pending_transfer_term_ = 0;
  std::unique_ptr<InvariantChecker> checker_;
  uint64_t now_ = 0;
  uint64_t read_seq_ = 0;
  uint64_t last_leader_term_ = 0;
  std::map<Bytes, uint64_t> reads_;
  SimCounters counters_;
  std::string failure_;
  std::vector<std::string> trace_;
};

}  // namespace

SimResult run_schedule(const SimConfig& config) { return Schedule(config).run(); }

}  // namespace etsecd::raft::sim
