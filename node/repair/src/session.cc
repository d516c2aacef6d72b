#include "etsecd/repair/session.h"

#include <algorithm>
#include <optional>

#include "etsecd/wire/repair_messages.h"

namespace etsecd::repair {

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool cancelled(const SessionOptions& o) { return o.cancel != nullptr && o.cancel->load(); }

// Asks one holder for its shares of `keys`; nullopt (counted as a failure) if it cannot answer.
std::optional<HolderShares> ask_holder(const CallFn& call, const Peer& holder, const std::string& request,
                                       size_t expected, SessionStats& stats) {
  auto body = call(holder.id, wire::kRepairSharesMethod, request);
  if (!body) {
    ++stats.holder_failures;
    return std::nullopt;
  }
  auto resp = wire::decode_repair_shares_response(bytes_of(*body));
  if (!resp || resp->shares.size() != expected) {
    ++stats.holder_failures;
    return std::nullopt;
  }
  return HolderShares{holder.x, std::move(resp->shares)};
}

// Empty when this store can export exactly the snapshot `p` still (see SessionPlan::resume), else why not.
std::string why_not_resumable(const mvcc::SnapshotPoint& p, const mvcc::SnapshotPoint& now) {
  if (now.applied_index < p.applied_index) return "this member has not applied the interrupted snapshot";
  if (now.compact_revision != p.compact_revision) return "compacted since the interrupted snapshot";
  if (now.current_revision < p.current_revision) return "the interrupted snapshot is ahead of this store";
  return {};
}

}  // namespace

Result<SessionStats> run_session(const mvcc::Store& store, const SessionPlan& plan, const CallFn& call,
                                 const SessionOptions& options) {
  SessionStats stats;
  if (plan.threshold < 2 || plan.holders.size() + 1 < plan.threshold) {
    return make_error("repair.no_holders", "share repair needs " + std::to_string(plan.threshold) +
                                               " holders and has " + std::to_string(plan.holders.size() + 1));
  }
  const mvcc::SnapshotPoint now = store.snapshot_point();
  uint64_t source = plan.source;
  bool at_resume_point = false;
  stats.point = now;
  Result<std::string> raft_meta = make_error("repair.no_point", "no snapshot point");
  if (plan.resume) {
    stats.restart_reason = why_not_resumable(plan.resume->point, now);
    if (stats.restart_reason.empty()) {
      raft_meta = plan.raft_snapshot(plan.resume->point);
      if (raft_meta) {
        stats.point = plan.resume->point;
        source = plan.resume->source;
        at_resume_point = true;
      } else if (raft_meta.error().code == "repair.cancelled") {
        return raft_meta.error();
      } else {
        stats.restart_reason =
            "the raft log no longer has the interrupted snapshot's index (" + raft_meta.error().code + ")";
      }
    }
  }
  if (!at_resume_point) {
    raft_meta = plan.raft_snapshot(stats.point);
    if (!raft_meta) return raft_meta.error();
  }
  if (plan.fixed) plan.fixed(ResumePoint{source, stats.point}, stats.restart_reason);

  auto begun = call(plan.target.id, wire::kRepairBeginMethod,
                    wire::encode_repair_begin_request(wire::RepairBeginRequest{source, stats.point}));
  if (!begun) return begun.error();
  auto where = wire::decode_repair_begin_response(bytes_of(*begun));
  if (!where) return where.error();
  std::optional<mvcc::RecordKey> after = where->cursor;
  stats.resumed = after.has_value();

  std::vector<mvcc::RecordKey> keys;
  for (;;) {
    if (cancelled(options)) return make_error("repair.cancelled", "share repair cancelled");
    auto chunk =
        store.export_chunk(stats.point.current_revision, after, options.max_records, options.max_bytes);
    if (!chunk) return chunk.error();
    if (chunk->records.empty()) break;
    keys.clear();
    for (const auto& [k, r] : chunk->records) keys.push_back(k);
    const std::string request =
        wire::encode_repair_shares_request(wire::RepairSharesRequest{stats.point.applied_index, keys});

    // k holders' shares when there are that many (k+1 with ours: every record's polynomial is checked),
    // at least k-1; when the shares disagree, one more holder at a time (k+2 outvote a bad one).
    std::vector<HolderShares> shares;
    size_t next_holder = 0;
    Result<RecordList> rebuilt = make_error("repair.no_holders", "no holder answered");
    size_t want = std::min<size_t>(plan.threshold, plan.holders.size());
    while (true) {
      while (shares.size() < want && next_holder < plan.holders.size()) {
        if (auto h = ask_holder(call, plan.holders[next_holder++], request, keys.size(), stats)) {
          shares.push_back(std::move(*h));
        }
      }
      if (shares.size() + 1 < plan.threshold) {
        return make_error("repair.no_holders", "only " + std::to_string(shares.size()) + " of the " +
                                                   std::to_string(plan.threshold - 1) +
                                                   " other holders a repair needs answered");
      }
      rebuilt = rebuild_chunk(chunk->records, plan.self_x, shares, plan.threshold, plan.target.x,
                              store.compact_revision(), &stats.rebuild);
      if (rebuilt || next_holder >= plan.holders.size()) break;
      want = shares.size() + 1;
    }
    if (!rebuilt) return rebuilt.error();

    const std::string body =
        wire::encode_repair_chunk_request(wire::RepairChunkRequest{source, std::move(*rebuilt)});
    if (auto ack = call(plan.target.id, wire::kRepairChunkMethod, body); !ack) return ack.error();
    ++stats.chunks;
    after = chunk->records.back().first;
    if (chunk->done) break;
  }
  auto finished = call(plan.target.id, wire::kRepairFinishMethod,
                       wire::encode_repair_finish_request(wire::RepairFinishRequest{source, *raft_meta}));
  if (!finished) return finished.error();
  return stats;
}

}  // namespace etsecd::repair
