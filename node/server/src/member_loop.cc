// The loop thread: drives the Raft core (tick, step, propose, read_index), makes each Ready durable,
// sends its messages, applies committed entries to the MVCC store and answers waiting clients.
// Proposals that arrive while the loop is busy are proposed together and persisted with one fsync
// (group commit).

#include <unistd.h>

#include <cstdlib>

#include "etsecd/mvcc/entry_codec.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/server/errors.h"
#include "etsecd/wire/raft_codec.h"
#include "member_impl.h"

namespace etsecd::server {

namespace {
// Answers the waiter an event carries, if any.
void fail_event(Event& ev, const Error& error) {
  if (auto* p = std::get_if<event::Propose>(&ev)) p->waiter->complete(error);
  if (auto* r = std::get_if<event::ReadIndex>(&ev)) r->waiter->index.set_value(error);
  if (auto* c = std::get_if<event::ConfChange>(&ev)) c->waiter->complete(error);
  if (auto* t = std::get_if<event::Transfer>(&ev)) t->done->set_value(error);
}
}  // namespace

void MemberImpl::post(Event ev) {
  bool queued = false;
  {
    std::lock_guard lock(inbox_mu_);
    if (!inbox_closed_) {
      inbox_.push_back(std::move(ev));
      queued = true;
    }
  }
  if (queued) {
    inbox_cv_.notify_one();
    return;
  }
  // Posted after the loop ended (a request that raced the member's stop): nobody else would answer it,
  // and a forward worker waiting for it would hold up stop().
  fail_event(ev, mvcc::make_error(kStopped));
}

namespace {
// The member whose loop runs on this thread, if any (reply_forwarded batches replies made there).
thread_local const MemberImpl* t_loop_of = nullptr;
}  // namespace

void MemberImpl::reply_forwarded(uint64_t to, std::string frame) {
  if (t_loop_of == this) {
    forward_replies_[to].push_back(std::move(frame));
    return;
  }
  transport_->queue_forwards(to, {std::move(frame)});
}

void MemberImpl::flush_forward_replies() {
  for (auto& [to, frames] : forward_replies_) transport_->queue_forwards(to, std::move(frames));
  forward_replies_.clear();
}

void MemberImpl::run_loop() {
  t_loop_of = this;
  const auto tick_every = options_.heartbeat_interval;
  auto next_tick = std::chrono::steady_clock::now() + tick_every;
  while (!stopping_) {
    std::deque<Event> events;
    {
      std::unique_lock lock(inbox_mu_);
      const auto wake_at = std::min(next_tick, commit_notices_.due_at().value_or(next_tick));
      inbox_cv_.wait_until(lock, wake_at, [&] { return !inbox_.empty() || stopping_.load(); });
      events.swap(inbox_);
    }
    if (stopping_) break;
    for (auto& ev : events) dispatch(ev);
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      node_->tick();
      next_tick = now + tick_every;
      expire_waiters();
    }
    retry_deferred();
    while (node_->has_ready()) {
      raft::Ready rd = node_->ready();
      handle_ready(rd);
      node_->advance(rd);
    }
    flush_forward_replies();  // those from expiries and leadership changes
    send_commit_notices(false);
    maybe_compact();
    reap_repairs();
  }
  cancel_repairs();
  fail_all(mvcc::make_error(kStopped));
  flush_forward_replies();  // followers hear kStopped now, not when the stream breaks
}

void MemberImpl::dispatch(Event& ev) {
  if (auto* in = std::get_if<event::RaftIn>(&ev)) {
    for (const auto& bytes : in->messages) {
      auto msg = wire::decode_message(wire::as_bytes(bytes));
      if (!msg) {
        logger().warn("dropped malformed raft message", {{"from", in->from}, {"error", msg.error().code}});
        continue;
      }
      if (msg->from != in->from || msg->to != id_) continue;  // the stream's identity must match
      (void)node_->step(*msg);
    }
  } else if (auto* p = std::get_if<event::Propose>(&ev)) {
    propose(*p);
  } else if (auto* r = std::get_if<event::ReadIndex>(&ev)) {
    request_read(*r);
  } else if (auto* a = std::get_if<event::Ack>(&ev)) {
    node_->ack_leadership(a->from, a->term, raft::Bytes(a->context.begin(), a->context.end()));
  } else if (auto* c = std::get_if<event::ConfChange>(&ev)) {
    propose_conf_change(*c);
  } else if (auto* t = std::get_if<event::Transfer>(&ev)) {
    transfer_leadership(*t);
  } else if (auto* run = std::get_if<event::Run>(&ev)) {
    run->fn();
  } else if (std::holds_alternative<event::ReleaseCommitNotices>(ev)) {
    send_commit_notices(true);
  }
}

void MemberImpl::propose(event::Propose& p) {
  if (std::chrono::steady_clock::now() >= p.waiter->deadline) {
    p.waiter->complete(mvcc::make_error(kTimeout));
    return;
  }
  auto id = node_->propose(p.metadata, p.values);
  if (id) {
    proposals_[*id] = std::move(p.waiter);
    if (metrics_.count) metrics_.count("proposals", 1);
    return;
  }
  if (id.error().code == "raft.leader_recovering" || id.error().code == "raft.too_many_inflight" ||
      id.error().code == "raft.transfer_in_progress") {
    // Resolving its log, too many values not yet on k members, or handing leadership over (at most an
    // election timeout): retried each loop until the deadline (backpressure instead of an error the
    // client would have to interpret; after a transfer, the retry fails over to the new leader).
    deferred_proposals_.push_back(std::move(p));
    return;
  }
  if (id.error().code == "raft.not_leader") {
    p.waiter->complete(mvcc::make_error(kNotLeader));
    return;
  }
  p.waiter->complete(id.error());
}

void MemberImpl::request_read(event::ReadIndex& r) {
  if (std::chrono::steady_clock::now() >= r.waiter->deadline) {
    r.waiter->index.set_value(mvcc::make_error(kTimeout));
    return;
  }
  auto st = node_->read_index(raft::Bytes(r.context.begin(), r.context.end()), r.send_heartbeats);
  if (st) {
    reads_[r.context] = std::move(r.waiter);
    return;
  }
  if (st.error().code == "raft.leader_recovering") {
    deferred_reads_.push_back(std::move(r));
    return;
  }
  r.waiter->index.set_value(st.error().code == "raft.not_leader" ? mvcc::make_error(kNotLeader) : st.error());
}

void MemberImpl::retry_deferred() {
  if (deferred_proposals_.empty() && deferred_reads_.empty() && deferred_conf_changes_.empty()) return;
  const auto st = node_->status();
  if (st.recovering || st.transferee != raft::kNoMember) {
    expire_deferred();
    return;
  }
  auto proposals = std::move(deferred_proposals_);
  auto reads = std::move(deferred_reads_);
  deferred_proposals_.clear();
  deferred_reads_.clear();
  for (auto& p : proposals) propose(p);
  for (auto& r : reads) request_read(r);
  if (!st.conf_change_pending) {
    auto changes = std::move(deferred_conf_changes_);
    deferred_conf_changes_.clear();
    for (auto& c : changes) propose_conf_change(c);
  } else {
    expire_deferred();
  }
}

void MemberImpl::expire_deferred() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = deferred_proposals_.begin(); it != deferred_proposals_.end();) {
    if (now >= it->waiter->deadline) {
      it->waiter->complete(mvcc::make_error(kTimeout));
      it = deferred_proposals_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = deferred_reads_.begin(); it != deferred_reads_.end();) {
    if (now >= it->waiter->deadline) {
      it->waiter->index.set_value(mvcc::make_error(kTimeout));
      it = deferred_reads_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = deferred_conf_changes_.begin(); it != deferred_conf_changes_.end();) {
    if (now >= it->waiter->deadline) {
      it->waiter->complete(mvcc::make_error(kTimeout));
      it = deferred_conf_changes_.erase(it);
    } else {
      ++it;
    }
  }
}

void MemberImpl::expire_waiters() {
  // Clients stop waiting at their deadline; forget their entries so the maps stay bounded. A proposal
  // that commits later is still applied: only the answer is lost, as with any client timeout.
  const auto now = std::chrono::steady_clock::now();
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (now >= it->second->deadline) {
      it->second->index.set_value(mvcc::make_error(kTimeout));
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (now >= it->second->deadline + std::chrono::seconds(30)) {
      it->second->complete(mvcc::make_error(kTimeout));
      it = proposals_.erase(it);
    } else {
      ++it;
    }
  }
}

void MemberImpl::send_commit_notices(bool all) {
  for (auto& [to, notice] : commit_notices_.release(std::chrono::steady_clock::now(), all)) {
    std::vector<std::string> batch;
    batch.push_back(std::move(notice));
    transport_->send_raft(to, std::move(batch));
  }
  commit_notices_held_ = !commit_notices_.empty();
}

void MemberImpl::handle_ready(raft::Ready& rd) {
  // A leader's appends may leave before its own fsync (Raft thesis 10.2.1): followers write in parallel
  // with the leader, and the core counts the leader's own copy only after advance(), i.e. after the
  // write below. Everything else (votes, responses, fetches) waits for durability. Appends without
  // entries only announce a commit index: they wait for a ride (commit_notices.h).
  std::map<uint64_t, std::vector<std::string>> early;
  std::vector<raft::Message> later;
  const bool leading = node_->status().role == raft::Role::kLeader;
  const auto now = std::chrono::steady_clock::now();
  for (auto& m : rd.messages) {
    if (leading && m.type == raft::MessageType::kAppend && m.entries.empty() &&
        commit_notices_.hold(m.to, wire::encode_message(m), now)) {
      commit_notices_held_ = true;
    } else if (leading && m.type == raft::MessageType::kAppend) {
      commit_notices_.superseded(m.to);
      early[m.to].push_back(wire::encode_message(m));
    } else {
      later.push_back(std::move(m));
    }
  }
  for (auto& [to, batch] : early) transport_->send_raft(to, std::move(batch));

  if (auto st = log_->persist(rd.hard_state, rd.entries, rd.share_repairs); !st)
    fatal("persisting the raft log", st.error());
  for (const auto& c : rd.corrupt_shares) {
    logger().error("corrupt share in the raft log; rebuilding it from other members",
                   {{"index", c.index}, {"value", c.value}});
    if (metrics_.count) metrics_.count("corrupt_shares", 1);
  }
  // Publish before sending: a vote or acknowledgement leaves this member only after other threads
  // (the share-fetch handler) see the term it belongs to.
  publish();

  std::map<uint64_t, std::vector<std::string>> out;
  for (const auto& m : later) out[m.to].push_back(wire::encode_message(m));
  for (auto& [to, batch] : out) transport_->send_raft(to, std::move(batch));

  if (!rd.committed_entries.empty()) apply(rd.committed_entries);
  flush_forward_replies();
  if (rd.membership) {
    publish();
    on_membership_committed(*rd.membership);
  }

  for (const auto& rs : rd.read_states) {
    std::string ctx(rs.context.begin(), rs.context.end());
    auto it = reads_.find(ctx);
    if (it == reads_.end()) continue;
    it->second->index.set_value(rs.index);
    reads_.erase(it);
  }
  for (const auto& id : rd.dropped_proposals) {
    auto it = proposals_.find(id);
    if (it == proposals_.end()) continue;
    it->second->complete(mvcc::make_error(kLeaderChanged));
    proposals_.erase(it);
  }
  for (const auto& request : rd.snapshot_requests) start_repair(request);
  if (rd.soft_state && rd.soft_state->leader != known_leader_) {
    // Requests forwarded to a member that no longer leads get no answer from its new role.
    if (known_leader_ != 0 && known_leader_ != id_)
      forward_stream_->fail(known_leader_, mvcc::make_error(kLeaderChanged));
    // Operators look for leader churn first when latency jumps (etcd logs "elected leader" and counts
    // etcd_server_leader_changes_seen_total); 0 means this member knows of no leader right now.
    if (rd.soft_state->leader != 0) {
      logger().info(
          "leader changed",
          {{"leader", rd.soft_state->leader}, {"previous", known_leader_}, {"term", node_->status().term}});
      if (metrics_.count) metrics_.count("leader_changes", 1);
    }
    known_leader_ = rd.soft_state->leader;
  }
  if (rd.soft_state && rd.soft_state->role != raft::Role::kLeader) {
    send_commit_notices(true);  // what this term committed is still worth knowing
    cancel_repairs();           // a later leader repairs with its own stream
    // Lost leadership: nobody will confirm these reads or commit these deferred proposals here.
    for (auto& [ctx, w] : reads_) w->index.set_value(mvcc::make_error(kLeaderChanged));
    reads_.clear();
    for (auto& p : deferred_proposals_) p.waiter->complete(mvcc::make_error(kLeaderChanged));
    deferred_proposals_.clear();
    for (auto& r : deferred_reads_) r.waiter->index.set_value(mvcc::make_error(kLeaderChanged));
    deferred_reads_.clear();
    for (auto& c : deferred_conf_changes_) c.waiter->complete(mvcc::make_error(kLeaderChanged));
    deferred_conf_changes_.clear();
  }
}

void MemberImpl::apply(const std::vector<raft::Entry>& entries) {
  if (store_->installing()) {
    // A share repair is installing (or was interrupted by a restart): its snapshot replaces whatever
    // these entries would have done, and Node::check_restore refuses one that would not cover them.
    // The store refuses applies meanwhile; waiting proposals hear that the member is repairing.
    for (const auto& e : entries) {
      auto it = proposals_.find(raft::ProposalId{e.term, e.index});
      if (it == proposals_.end()) continue;
      it->second->complete(mvcc::make_error(mvcc::kRepairing));
      proposals_.erase(it);
    }
    return;
  }
  // All entries of one Ready go to the store in one backend batch: one RocksDB write (WAL append, memtable
  // insert, write-thread handshake) per Ready instead of one per entry.
  std::vector<const raft::Entry*> todo;
  for (const auto& e : entries) {
    if (e.index > store_->applied_index()) todo.push_back(&e);  // else applied before a restart
  }
  std::vector<mvcc::Operation> ops;
  std::vector<std::vector<std::string>> shares;
  ops.reserve(todo.size());  // no reallocation: batch entries point into these
  shares.reserve(todo.size());
  std::vector<mvcc::Store::ApplyEntry> batch;
  batch.reserve(todo.size());
  for (const raft::Entry* e : todo) {
    mvcc::Store::ApplyEntry a;
    a.index = e->index;
    if (e->type == raft::EntryType::kNormal && !e->metadata.empty()) {
      auto op = mvcc::decode_operation(
          std::string_view(reinterpret_cast<const char*>(e->metadata.data()), e->metadata.size()));
      if (!op) fatal("decoding committed entry " + std::to_string(e->index), op.error());
      ops.push_back(std::move(*op));
      auto& s = shares.emplace_back();
      s.reserve(e->shares.size());
      for (const auto& sh : e->shares) s.emplace_back(sh.begin(), sh.end());
      a.op = &ops.back();
      a.shares = s;
    }
    batch.push_back(a);
  }
  if (!batch.empty()) {
    auto results = store_->apply_batch(batch);
    // While a repair installs a snapshot the store refuses applies (and applies nothing), as before
    // batching; anything else that fails the whole batch (storage, out of order) is fatal.
    if (!results && !mvcc::is(results.error(), mvcc::kRepairing)) {
      fatal("applying entries from " + std::to_string(batch.front().index), results.error());
    }
    for (size_t i = 0; i < todo.size(); ++i) {
      const raft::Entry& e = *todo[i];
      Result<mvcc::ApplyResult> result =
          results ? std::move((*results)[i]) : Result<mvcc::ApplyResult>(results.error());
      auto it = proposals_.find(raft::ProposalId{e.term, e.index});
      if (it == proposals_.end()) continue;
      if (result) {
        AppliedEntry applied;
        applied.index = e.index;
        applied.result = std::move(*result);
        it->second->complete(std::move(applied));
      } else {
        it->second->complete(result.error());
      }
      proposals_.erase(it);
    }
  }
  {
    std::lock_guard lock(status_mu_);
    published_.applied = store_->applied_index();
  }
  applied_cv_.notify_all();
}

void MemberImpl::publish() {
  const auto st = node_->status();
  std::lock_guard lock(status_mu_);
  published_.term = st.term;
  published_.leader = st.leader;
  published_.commit = st.commit;
  published_.applied = store_->applied_index();
  published_.is_leader = st.role == raft::Role::kLeader;
  published_.recovering = st.recovering;
  published_.membership = node_->committed_membership();
  published_.threshold = st.quorum.threshold;
}

void MemberImpl::fail_all(const Error& error) {
  for (auto& [id, w] : proposals_) w->complete(error);
  proposals_.clear();
  for (auto& [ctx, w] : reads_) w->index.set_value(error);
  reads_.clear();
  for (auto& p : deferred_proposals_) p.waiter->complete(error);
  deferred_proposals_.clear();
  for (auto& r : deferred_reads_) r.waiter->index.set_value(error);
  deferred_reads_.clear();
  for (auto& c : deferred_conf_changes_) c.waiter->complete(error);
  deferred_conf_changes_.clear();
  std::deque<Event> left;
  {
    std::lock_guard lock(inbox_mu_);
    left.swap(inbox_);
    inbox_closed_ = true;
  }
  for (auto& ev : left) fail_event(ev, error);
}

void MemberImpl::fatal(const std::string& what, const Error& error) {
  // Memory and disk may now disagree; like etcd, stop rather than serve or acknowledge anything more.
  // _exit skips destructors (no flush of half-written state) and, with core dumps disabled by main(),
  // leaves no image of memory that could hold a value being split.
  logger().error("fatal: " + what + " failed", {{"error", error.code}, {"detail", error.message}});
  ::_exit(70);
}

}  // namespace etsecd::server
