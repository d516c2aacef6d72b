#pragma once
// The metrics every etsecd member exports, registered in one place so names stay stable for dashboards
// and alerts. Names follow etcd's where the meaning is the same (etcd_server_has_leader ->
// etsecd_server_has_leader), so existing etcd dashboards adapt by a prefix change.
//
// None of these is derived from a value or a share: they count, time and size.

#include "etsecd/observability/metrics.h"

namespace etsecd::metrics {

struct NodeMetrics {
  explicit NodeMetrics(Registry& registry);

  // Raft state.
  Gauge& term;              // etsecd_server_term
  Gauge& has_leader;        // etsecd_server_has_leader: 1 when this member knows a leader
  Gauge& is_leader;         // etsecd_server_is_leader
  Gauge& leader_id;         // etsecd_server_leader_share_index: the leader's share index, 0 if none
  Counter& leader_changes;  // etsecd_server_leader_changes_seen_total
  Gauge& commit_index;      // etsecd_server_commit_index
  Gauge& applied_index;     // etsecd_server_applied_index

  // Proposals (leader side).
  Counter& proposals_committed;  // etsecd_server_proposals_committed_total
  Counter& proposals_failed;     // etsecd_server_proposals_failed_total
  Gauge& proposals_pending;      // etsecd_server_proposals_pending
  Gauge& inflight_share_bytes;   // etsecd_server_inflight_share_cache_bytes

  // Shares.
  Family<Histogram>&
      share_fetch_seconds;   // etsecd_share_fetch_duration_seconds{purpose="read|recovery|repair"}
  Counter& corrupt_shares;   // etsecd_share_corrupt_total: checksum or polynomial mismatch
  Counter& repaired_shares;  // etsecd_share_repaired_total

  // Client API latency by method ("Put", "Range", "DeleteRange", "Txn", "Compact").
  Family<Histogram>& request_seconds;  // etsecd_grpc_request_duration_seconds{method}
  Family<Counter>& requests;           // etsecd_grpc_requests_total{method, code}

  // Disk.
  Histogram& fsync_seconds;  // etsecd_disk_fsync_duration_seconds
};

}  // namespace etsecd::metrics
