#include "etsecd/observability/node_metrics.h"

#include <doctest/doctest.h>

using namespace etsecd::metrics;

TEST_CASE("the member's metrics are registered under stable names") {
  Registry r;
  NodeMetrics m(r);
  m.term.set(3);
  m.has_leader.set(1);
  m.commit_index.set(120);
  m.applied_index.set(118);
  m.proposals_committed.inc(5);
  m.share_fetch_seconds.with({"read"}).observe(0.002);
  m.request_seconds.with({"Put"}).observe(0.004);
  m.requests.with({"Put", "OK"}).inc();
  const std::string text = r.render();
  for (const char* line :
       {"etsecd_server_term 3\n", "etsecd_server_has_leader 1\n", "etsecd_server_commit_index 120\n",
        "etsecd_server_applied_index 118\n", "etsecd_server_proposals_committed_total 5\n",
        "etsecd_server_leader_changes_seen_total 0\n", "etsecd_share_corrupt_total 0\n",
        "etsecd_share_fetch_duration_seconds_count{purpose=\"read\"} 1\n",
        "etsecd_grpc_request_duration_seconds_count{method=\"Put\"} 1\n",
        "etsecd_grpc_requests_total{method=\"Put\",code=\"OK\"} 1\n",
        "etsecd_disk_fsync_duration_seconds_count 0\n"}) {
    CAPTURE(line);
    CHECK(text.find(line) != std::string::npos);
  }
  // A second NodeMetrics on the same registry shares the same series (idempotent registration).
  NodeMetrics again(r);
  CHECK(&again.term == &m.term);
}
