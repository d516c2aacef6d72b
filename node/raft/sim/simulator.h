#pragma once
// A deterministic, seeded simulator of a cluster of Raft cores over Shamir shares: one schedule is a
// random sequence of ticks, deliveries, proposals, reads, crashes (durable storage kept, everything
// else including the leader's share cache lost), restarts, partitions, share corruption and the crux
// scenario (a leader dies after its latest value reached some random number of members), log compaction
// and share-repair snapshots (the host's stream played here, with crashes and leader changes during it),
// with every
// invariant of invariants.h checked after every step. The same seed replays the same schedule.

#include <cstdint>
#include <string>
#include <vector>

namespace etsecd::raft::sim {

struct SimConfig {
  uint64_t seed = 1;
  unsigned members = 0;           // 0: 3, 5 or 7 chosen by the seed
  unsigned steps = 200;           // faulty steps, followed by a healed phase that must make progress
  bool trace = false;             // keep a readable event log (slow)
  bool production_codec = false;  // nodes use make_shamir_secret_sharer() (when built with it)
};

struct SimCounters {
  uint64_t schedules = 0;
  uint64_t steps = 0;
  uint64_t proposals = 0;
  uint64_t committed_entries = 0;
  uint64_t reads_confirmed = 0;
  uint64_t crashes = 0;
  uint64_t leader_changes = 0;
  // The crux: a leader died right after its newest value reached this many members (leader included).
  uint64_t leader_killed_below_k = 0;
  uint64_t leader_killed_k_to_w = 0;  // k <= holders <= W-1
  uint64_t leader_killed_at_w = 0;    // holders >= W
  // What new leaders then had to do (schedules in which it happened at least once, and totals).
  uint64_t schedules_with_rebuild = 0;
  uint64_t schedules_with_drop = 0;
  uint64_t schedules_with_wait = 0;
  uint64_t rebuilt_shares = 0;
  uint64_t dropped_entries = 0;
  uint64_t dropped_proposals = 0;
  uint64_t corruptions_injected = 0;
  uint64_t corruptions_detected = 0;
  uint64_t corruptions_repaired = 0;
  uint64_t cache_evictions = 0;
  uint64_t rebuilds_checked = 0;
  // Membership changes (committed ones, as the hosts saw them) and leadership transfers.
  uint64_t learners_added = 0;  // AddLearner entries appended
  uint64_t promotions = 0;
  uint64_t removals = 0;
  uint64_t promotions_refused_not_ready = 0;
  uint64_t changes_refused_holders = 0;
  uint64_t transfers_started = 0;
  uint64_t transfers_completed = 0;  // the transferee led the next term
  uint64_t leader_removed_itself = 0;
  // Log compaction and share-repair snapshots.
  uint64_t compactions = 0;
  uint64_t snapshot_requests = 0;         // SnapshotRequests the leaders emitted
  uint64_t snapshots_installed = 0;       // repair streams that ended in restore()
  uint64_t snapshots_interrupted = 0;     // the target or the leader crashed mid-stream
  uint64_t snapshots_source_gone = 0;     // the requesting leader was down when the stream was due
  uint64_t snapshots_target_gone = 0;     // the target was down (or removed) when it was due
  uint64_t snapshots_failed_holders = 0;  // fewer than k intact state-machine shares of some entry
  uint64_t snapshots_refused_stale = 0;   // check_restore: the member caught up meanwhile
  uint64_t snapshot_reports_ignored = 0;  // reports that reached a leader no longer waiting for them

  void add(const SimCounters& other);
  std::string summary() const;
};

struct SimResult {
  uint64_t seed = 0;
  std::string failure;  // empty when every invariant held
  SimCounters counters;
  std::vector<std::string> trace;  // when SimConfig::trace
};

SimResult run_schedule(const SimConfig& config);

}  // namespace etsecd::raft::sim
