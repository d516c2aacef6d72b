#include "etsecd/observability/operator_metrics.h"

namespace etsecd::observability {

OperatorMetrics::OperatorMetrics(MetricsRegistry& registry)
    : registry_(registry),
      duration_(registry.histogram("etsecd_operator_reconcile_duration_seconds",
                                   "Time taken by one reconcile pass of an EtsecdCluster.",
                                   default_duration_buckets())),
      queue_depth_(
          registry.gauge("etsecd_operator_workqueue_depth", "EtsecdCluster keys waiting to be reconciled.")),
      leader_(
          registry.gauge("etsecd_operator_leader", "1 while this replica holds the leader Lease, else 0.")) {
  // Registered up front so that dashboards see zeros rather than missing series.
  registry.counter("etsecd_operator_reconciles_total", "Reconcile passes by result.",
                   {{"result", "success"}});
  registry.counter("etsecd_operator_reconciles_total", "Reconcile passes by result.", {{"result", "error"}});
}

void OperatorMetrics::reconcile_finished(double seconds, const std::string& error_code) {
  duration_.observe(seconds);
  bool ok = error_code.empty();
  registry_
      .counter("etsecd_operator_reconciles_total", "Reconcile passes by result.",
               {{"result", ok ? "success" : "error"}})
      .inc();
  if (!ok) {
    registry_
        .counter("etsecd_operator_reconcile_errors_total", "Failed reconcile passes by error code.",
                 {{"code", error_code}})
        .inc();
  }
}

void OperatorMetrics::set_queue_depth(double depth) { queue_depth_.set(depth); }

void OperatorMetrics::set_leader(bool leading) { leader_.set(leading ? 1 : 0); }

void OperatorMetrics::watch_error(const std::string& resource) {
  registry_
      .counter("etsecd_operator_watch_errors_total", "List/watch errors the informers retried, by resource.",
               {{"resource", resource}})
      .inc();
}

}  // namespace etsecd::observability
