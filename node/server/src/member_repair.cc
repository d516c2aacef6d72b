// Log compaction and share repair in the member runtime (docs/protocol.md 9.6).
// Leader: a snapshot request from the core starts one repair stream per target on its own thread (a
// stream reads k holders' shares of every record, which takes far longer than a loop iteration may),
// and reports the outcome to the core through the loop. Other members: answer holders' share requests,
// install a stream (begin/chunk on the transport thread; finish on the loop thread, because it
// restarts the raft log and the core together).
// Logs and metrics carry counts only: never a share or a value.

#include <algorithm>
#include <chrono>
#include <future>

#include "etsecd/mvcc/errors.h"
#include "etsecd/server/errors.h"
#include "etsecd/wire/repair_messages.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

constexpr uint64_t kCatchUpMargin = 5000;           // entries kept below the durable index (as etcd)
constexpr uint64_t kInterruptedRepairHold = 50000;  // entries kept for an interrupted stream's resume
constexpr auto kRepairCallTimeout = std::chrono::seconds(10);

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A value unique to (leader term, target, the leader's applied index when the stream started): the
// target resumes an install only for the same source.
uint64_t repair_source(uint64_t term, uint64_t target, uint64_t applied) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t v : {term, target, applied}) {
    h ^= v;
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  return h;
}

}  // namespace

void MemberImpl::maybe_compact() {
  const uint64_t applied = store_->applied_index();
  const uint64_t every = std::max<uint64_t>(1, options_.snapshot_count);
  if (applied < compact_checked_at_ + every) return;
  compact_checked_at_ = applied;
  // Entries above what the store made durable are replayed after a crash: keep them.
  auto durable = store_->sync();
  if (!durable) {
    logger().warn("store sync before log compaction failed", {{"error", durable.error().code}});
    return;
  }
  // Keep a catch-up margin so a member slightly behind gets entries, not a repair stream.
  const uint64_t margin = std::min(kCatchUpMargin, every);
  if (*durable <= margin) return;
  uint64_t index = *durable - margin;
  for (const auto& [to, s] : repairs_) index = std::min(index, s.floor);
  // An interrupted stream's retry resumes only while the log still has its snapshot's index (and the
  // entries after it, which the member replays once installed): keep them, within a bound, so a member
  // that never comes back does not stop compaction for good.
  const raft::Membership& members = node_->committed_membership();
  for (auto it = interrupted_repairs_.begin(); it != interrupted_repairs_.end();) {
    const bool member = std::any_of(members.members.begin(), members.members.end(),
                                    [&](const raft::Member& m) { return m.id == it->first; });
    if (!member) {  // removed since: nothing to resume
      it = interrupted_repairs_.erase(it);
      continue;
    }
    const uint64_t at = it->second.point.applied_index;
    if (at >= *durable || *durable - at <= kInterruptedRepairHold) index = std::min(index, at);
    ++it;
  }
  if (index <= log_->snapshot_meta().index) return;
  if (auto st = log_->compact(index, node_->membership_at(index)); !st) {
    logger().warn("raft log compaction failed", {{"index", index}, {"error", st.error().code}});
    return;
  }
  if (metrics_.count) metrics_.count("log_compactions", 1);
  logger().info("compacted the raft log", {{"index", index}});
}

void MemberImpl::start_repair(const raft::SnapshotRequest& request) {
  if (repairs_.count(request.to) != 0) return;  // an earlier stream still ends and reports
  const auto status = node_->status();
  const raft::Membership membership = node_->committed_membership();
  repair::SessionPlan plan;
  plan.threshold = status.quorum.threshold;
  plan.target = repair::Peer{request.to, request.x};
  for (const auto& m : membership.members) {
    if (m.id == id_) {
      plan.self_x = m.x;
    } else if (m.voter && m.id != request.to) {
      plan.holders.push_back(repair::Peer{m.id, m.x});
    }
  }
  const uint64_t applied = store_->applied_index();
  plan.source = repair_source(status.term, request.to, applied);
  RepairSession session;
  session.cancel = std::make_shared<std::atomic<bool>>(false);
  session.done = std::make_shared<std::atomic<bool>>(false);
  session.floor = applied;
  if (auto it = interrupted_repairs_.find(request.to); it != interrupted_repairs_.end()) {
    // Keep the log from the interrupted snapshot's index on, so the session can still resume it.
    plan.resume = it->second;
    session.floor = std::min(applied, it->second.point.applied_index);
  }
  logger().info("starting share repair",
                {{"target", request.to},
                 {"x", uint64_t{request.x}},
                 {"holders", uint64_t(plan.holders.size())},
                 {"from_index", applied},
                 {"resume_index", plan.resume ? plan.resume->point.applied_index : 0}});
  if (metrics_.count) metrics_.count("repair_sessions_started", 1);
  session.thread =
      std::thread(&MemberImpl::run_repair, this, request.to, std::move(plan), session.cancel, session.done);
  repairs_.emplace(request.to, std::move(session));
}

void MemberImpl::run_repair(uint64_t to, repair::SessionPlan plan, std::shared_ptr<std::atomic<bool>> cancel,
                            std::shared_ptr<std::atomic<bool>> done) {
  const auto started = std::chrono::steady_clock::now();
  plan.raft_snapshot = [this, &cancel](const mvcc::SnapshotPoint& point) -> Result<std::string> {
    raft::SnapshotMeta meta;
    meta.index = point.applied_index;
    auto term = log_->term(meta.index);
    if (!term) return term.error();
    meta.term = *term;
    // Shared: when this thread stops waiting, the loop may still run the function later.
    auto membership = std::make_shared<raft::Membership>();
    const uint64_t index = meta.index;
    if (!run_on_loop([this, membership, index] { *membership = node_->membership_at(index); },
                     cancel.get())) {
      return make_error("repair.cancelled", "share repair cancelled");
    }
    meta.membership = *membership;
    return raftlog::encode_snapshot_meta(meta);
  };
  auto fixed = std::make_shared<std::optional<repair::ResumePoint>>();
  plan.fixed = [this, to, fixed, &plan](const repair::ResumePoint& p, const std::string& restart_reason) {
    *fixed = p;
    if (!plan.resume) return;
    if (restart_reason.empty()) {
      logger().info("share repair resumes the interrupted snapshot",
                    {{"target", to}, {"index", p.point.applied_index}});
      if (metrics_.count) metrics_.count("repair_sessions_resumed", 1);
    } else {
      logger().info("share repair starts over: the interrupted snapshot cannot be exported any more",
                    {{"target", to}, {"index", p.point.applied_index}, {"reason", restart_reason}});
      if (metrics_.count) metrics_.count("repair_sessions_restarted", 1);
    }
  };
  repair::CallFn call = [this](uint64_t member, const std::string& method, const std::string& body) {
    return transport_->call(member, method, body, std::chrono::steady_clock::now() + kRepairCallTimeout);
  };
  repair::SessionOptions options;
  options.cancel = cancel.get();
  auto result = repair::run_session(*store_, plan, call, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  uint64_t index = 0;
  if (result) {
    index = result->point.applied_index;
    logger().info("share repair finished", {{"target", to},
                                            {"index", index},
                                            {"chunks", result->chunks},
                                            {"records", result->rebuild.records},
                                            {"resumed", result->resumed},
                                            {"holder_failures", result->holder_failures},
                                            {"seconds", seconds}});
    if (metrics_.count) {
      metrics_.count("repair_sessions_ok", 1);
      metrics_.count("repair_chunks_sent", result->chunks);
      metrics_.count("repair_records_sent", result->rebuild.records);
    }
    if (metrics_.observe) metrics_.observe("repair_session", seconds);
  } else {
    logger().warn("share repair failed",
                  {{"target", to}, {"error", result.error().code}, {"detail", result.error().message}});
    if (metrics_.count) metrics_.count("repair_sessions_failed", 1);
  }
  const bool ok = result.ok();
  if (!ok) {
    // The core asks again right after a failure: pace retries to one per election timeout so an
    // unreachable member costs a log line a second, not a stream of attempts.
    const auto retry_at = std::chrono::steady_clock::now() + options_.election_timeout;
    while (std::chrono::steady_clock::now() < retry_at && !cancel->load() && !stopping_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  run_on_loop(
      [this, to, index, ok, interrupted = *fixed] {
        // A failure before the point was fixed leaves the earlier interrupted snapshot to resume.
        if (ok) {
          interrupted_repairs_.erase(to);
        } else if (interrupted) {
          interrupted_repairs_[to] = *interrupted;
        }
        node_->report_snapshot(to, index, ok);
      },
      nullptr);
  done->store(true);
  post(event::Run{[] {}});  // wake the loop to reap this thread
}

void MemberImpl::reap_repairs() {
  for (auto it = repairs_.begin(); it != repairs_.end();) {
    if (it->second.done->load()) {
      it->second.thread.join();
      it = repairs_.erase(it);
    } else {
      ++it;
    }
  }
}

void MemberImpl::cancel_repairs() {
  for (auto& [to, s] : repairs_) s.cancel->store(true);
}

bool MemberImpl::run_on_loop(std::function<void()> fn, const std::atomic<bool>* cancel) {
  auto ran = std::make_shared<std::promise<void>>();
  auto future = ran->get_future();
  post(event::Run{[fn = std::move(fn), ran] {
    fn();
    ran->set_value();
  }});
  // The loop drops queued events when it stops; never wait for it past that.
  while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (stopping_.load() || (cancel != nullptr && cancel->load())) return false;
  }
  return true;
}

repair::Receiver::Hooks MemberImpl::repair_hooks() {
  repair::Receiver::Hooks hooks;
  hooks.install_raft = [this](const mvcc::SnapshotPoint& point, const std::string& raw) -> Status {
    auto meta = raftlog::decode_snapshot_meta(raw);
    if (!meta) return meta.error();
    if (meta->index != point.applied_index) {
      return make_error("repair.mismatch", "the raft snapshot is at " + std::to_string(meta->index) +
                                               ", the store's at " + std::to_string(point.applied_index));
    }
    // A member that caught up while the stream ran keeps its log (the leader hears a failure and
    // replicates instead); otherwise the log restarts at the snapshot.
    if (Status st = node_->check_restore(*meta); !st) return st;
    if (Status st = log_->install_snapshot(*meta); !st) return st;
    installed_meta_ = std::move(*meta);
    return Status::Ok();
  };
  hooks.published = [this](const mvcc::SnapshotPoint& point) {
    if (!installed_meta_) return;
    if (Status st = node_->restore(*installed_meta_); !st) {
      // The log already starts at the snapshot: a core that disagrees would replicate from a wrong
      // place. A restart reloads both from disk consistently.
      fatal("restoring the raft core from a share-repair snapshot", st.error());
    }
    logger().info("share repair installed",
                  {{"index", point.applied_index}, {"revision", int64_t{point.current_revision}}});
    if (metrics_.count) metrics_.count("repair_installs_finished", 1);
    compact_checked_at_ = installed_meta_->index;
    installed_meta_.reset();
    repair_chunks_received_ = 0;
    publish();
    applied_cv_.notify_all();
  };
  return hooks;
}

Result<std::string> MemberImpl::serve_repair(const std::string& method, const std::string& body) {
  if (method == wire::kRepairSharesMethod) return repair::serve_shares(*store_, bytes_of(body));
  if (method == wire::kRepairFinishMethod) {
    // Restarts the raft log at the snapshot and the core with it, with nothing in between.
    auto answer = std::make_shared<Result<std::string>>(mvcc::make_error(kStopped));
    if (!run_on_loop(
            [this, answer, body] { *answer = receiver_->handle(wire::kRepairFinishMethod, bytes_of(body)); },
            nullptr)) {
      return mvcc::make_error(kStopped);
    }
    return *answer;
  }
  auto answer = receiver_->handle(method, bytes_of(body));
  if (answer && method == wire::kRepairChunkMethod) {
    if (metrics_.count) {
      metrics_.count("repair_chunks_received", 1);
      metrics_.count("repair_bytes_received", body.size());
    }
    const uint64_t chunks = ++repair_chunks_received_;
    // The first chunk at info (operators and tests see a stream arrive), the rest at debug.
    if (chunks == 1) {
      logger().info("share repair chunk installed", {{"chunk", chunks}, {"bytes", uint64_t(body.size())}});
    } else {
      logger().debug("share repair chunk installed", {{"chunk", chunks}, {"bytes", uint64_t(body.size())}});
    }
  } else if (answer && method == wire::kRepairBeginMethod) {
    auto where = wire::decode_repair_begin_response(bytes_of(*answer));
    const bool resumes = where && where->cursor.has_value();
    logger().info(resumes ? "share repair resumes after the last installed record" : "share repair begins");
    if (metrics_.count) metrics_.count(resumes ? "repair_installs_resumed" : "repair_installs_begun", 1);
  }
  return answer;
}

}  // namespace etsecd::server
