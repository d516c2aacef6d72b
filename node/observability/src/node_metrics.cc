#include "etsecd/observability/node_metrics.h"

namespace etsecd::metrics {

NodeMetrics::NodeMetrics(Registry& r)
    : term(r.gauge("etsecd_server_term", "The current Raft term.")),
      has_leader(r.gauge("etsecd_server_has_leader", "Whether this member knows a leader (1) or not (0).")),
      is_leader(r.gauge("etsecd_server_is_leader", "Whether this member is the leader (1) or not (0).")),
      leader_id(r.gauge("etsecd_server_leader_share_index", "Share index of the known leader; 0 when none.")),
      leader_changes(
          r.counter("etsecd_server_leader_changes_seen_total", "Leader changes this member has seen.")),
      commit_index(r.gauge("etsecd_server_commit_index", "Highest Raft index known to be committed.")),
      applied_index(r.gauge("etsecd_server_applied_index", "Highest Raft index applied to the store.")),
      proposals_committed(r.counter("etsecd_server_proposals_committed_total", "Proposals committed.")),
      proposals_failed(r.counter("etsecd_server_proposals_failed_total", "Proposals that failed.")),
      proposals_pending(r.gauge("etsecd_server_proposals_pending", "Proposals waiting to commit.")),
      inflight_share_bytes(r.gauge("etsecd_server_inflight_share_cache_bytes",
                                   "Bytes of other members' shares the leader holds for entries in flight.")),
      share_fetch_seconds(r.histogram_family("etsecd_share_fetch_duration_seconds",
                                             "Time to gather k shares, by purpose.", {"purpose"},
                                             latency_buckets_seconds())),
      corrupt_shares(
          r.counter("etsecd_share_corrupt_total", "Shares found corrupt (checksum or polynomial mismatch).")),
      repaired_shares(r.counter("etsecd_share_repaired_total", "Shares rebuilt from k good ones.")),
      request_seconds(r.histogram_family("etsecd_grpc_request_duration_seconds",
                                         "Client request latency by method.", {"method"},
                                         latency_buckets_seconds())),
      requests(r.counter_family("etsecd_grpc_requests_total", "Client requests by method and status code.",
                                {"method", "code"})),
      fsync_seconds(r.histogram("etsecd_disk_fsync_duration_seconds",
                                "Latency of fsync before acknowledging.", latency_buckets_seconds())) {}

}  // namespace etsecd::metrics
