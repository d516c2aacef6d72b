#include "etsecd/observability/operator_metrics.h"

namespace etsecd::observability {

OperatorMetrics::OperatorMetrics(metrics::Registry& registry)
    : duration_(registry.histogram("etsecd_operator_reconcile_duration_seconds",
                                   "Time taken by one reconcile pass of an EtsecdCluster.",
                                   metrics::latency_buckets_seconds())),
      queue_depth_(
          registry.gauge("etsecd_operator_workqueue_depth", "EtsecdCluster keys waiting to be reconciled.")),
      leader_(
          registry.gauge("etsecd_operator_leader", "1 while this replica holds the leader Lease, else 0.")),
      reconciles_(registry.counter_family("etsecd_operator_reconciles_total", "Reconcile passes by result.",
                                          {"result"})),
      errors_(registry.counter_family("etsecd_operator_reconcile_errors_total",
                                      "Failed reconcile passes by error code.", {"code"})),
      watch_errors_(registry.counter_family("etsecd_operator_watch_errors_total",
                                            "List/watch errors the informers retried, by resource.",
                                            {"resource"})) {
  // Created up front so that dashboards see zeros rather than missing series.
  reconciles_.with({"success"});
  reconciles_.with({"error"});
}

void OperatorMetrics::reconcile_finished(double seconds, const std::string& error_code) {
  duration_.observe(seconds);
  const bool ok = error_code.empty();
  reconciles_.with({ok ? "success" : "error"}).inc();
  if (!ok) errors_.with({error_code}).inc();
}

void OperatorMetrics::set_queue_depth(double depth) { queue_depth_.set(depth); }

void OperatorMetrics::set_leader(bool leading) { leader_.set(leading ? 1 : 0); }

void OperatorMetrics::watch_error(const std::string& resource) { watch_errors_.with({resource}).inc(); }

}  // namespace etsecd::observability
