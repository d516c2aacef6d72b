// The seeded simulator as a CTest (label `sim`). Environment:
//   ETSECD_SIM_SEED=S        run only schedule S, with its event trace on failure (the last 400
//                            events; all of them with ETSECD_SIM_FULL_TRACE=1)
//   ETSECD_SIM_SCHEDULES=N   number of schedules (default 10000)
//   ETSECD_SIM_LONG=1        long mode: 200000 schedules unless ETSECD_SIM_SCHEDULES says otherwise
//   ETSECD_SIM_BASE_SEED=B   first seed (default 1)
//   ETSECD_SIM_STEPS=T       faulty steps per schedule (default 200)
//   ETSECD_SIM_CODEC=shamir  members use the production codec (the checker keeps the reference one)
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/simulator.h"

namespace {

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE(
    "simulator: every invariant holds under loss, reordering, partitions, crashes, leader kills, membership "
    "changes, leadership transfers, log compaction and share-repair snapshots") {
  using etsecd::raft::sim::run_schedule;
  using etsecd::raft::sim::SimConfig;
  using etsecd::raft::sim::SimCounters;

  const bool single = std::getenv("ETSECD_SIM_SEED") != nullptr;
  const uint64_t base = single ? env_u64("ETSECD_SIM_SEED", 1) : env_u64("ETSECD_SIM_BASE_SEED", 1);
  const uint64_t count =
      single ? 1 : env_u64("ETSECD_SIM_SCHEDULES", std::getenv("ETSECD_SIM_LONG") ? 200000 : 10000);
  const unsigned steps = static_cast<unsigned>(env_u64("ETSECD_SIM_STEPS", 200));

  SimCounters total;
  for (uint64_t i = 0; i < count; ++i) {
    SimConfig cfg;
    cfg.seed = base + i;
    cfg.steps = steps;
    cfg.trace = single;
    const char* codec = std::getenv("ETSECD_SIM_CODEC");
    cfg.production_codec = codec && std::string(codec) == "shamir";
    auto result = run_schedule(cfg);
    total.add(result.counters);
    if (!result.failure.empty()) {
      const size_t from =
          result.trace.size() > 400 && !std::getenv("ETSECD_SIM_FULL_TRACE") ? result.trace.size() - 400 : 0;
      for (size_t t = from; t < result.trace.size(); ++t) std::printf("  %s\n", result.trace[t].c_str());
      std::printf("SIMULATOR FAILURE seed=%llu: %s\nrerun: ETSECD_SIM_SEED=%llu ETSECD_SIM_STEPS=%u %s\n",
                  static_cast<unsigned long long>(cfg.seed), result.failure.c_str(),
                  static_cast<unsigned long long>(cfg.seed), steps, ETSECD_SIM_BINARY);
      FAIL("simulator invariant violated, seed " << cfg.seed);
    }
  }
  std::printf("%s\n", total.summary().c_str());
  if (!single && count >= 1000) {
    // The schedules must really reach the crux, or passing means nothing.
    CHECK(total.leader_killed_below_k > 0);
    CHECK(total.leader_killed_k_to_w > 0);
    CHECK(total.leader_killed_at_w > 0);
    CHECK(total.schedules_with_rebuild > 0);
    CHECK(total.schedules_with_drop > 0);
    CHECK(total.schedules_with_wait > 0);
    CHECK(total.reads_confirmed > 0);
    CHECK(total.corruptions_repaired > 0);
    // Membership changes and transfers really happen, and so do the refusals that keep them safe.
    CHECK(total.learners_added > 0);
    CHECK(total.promotions > 0);
    CHECK(total.removals > 0);
    CHECK(total.leader_removed_itself > 0);
    CHECK(total.promotions_refused_not_ready > 0);
    CHECK(total.changes_refused_holders > 0);
    CHECK(total.transfers_completed > 0);
    // Logs are compacted, and members that need compacted entries are repaired by snapshot, also when
    // the stream is interrupted or its report arrives after a leader change.
    CHECK(total.compactions > 0);
    CHECK(total.snapshots_installed > 0);
    CHECK(total.snapshots_interrupted > 0);
    CHECK(total.snapshot_reports_ignored > 0);
  }
}
