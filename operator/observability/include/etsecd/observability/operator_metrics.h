#pragma once
// The operator's own metrics, etsecd_operator_*, in the same Prometheus registry the members use
// (etsecd/observability/metrics.h).

#include <string>

#include "etsecd/observability/metrics.h"

namespace etsecd::observability {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(metrics::Registry& registry);

  // One reconcile pass of a cluster finished. error_code is "" on success, else the etsecd::Error code
  // ("kube.conflict", ...), which becomes a label of the error counter.
  void reconcile_finished(double seconds, const std::string& error_code = "");
  void set_queue_depth(double depth);
  void set_leader(bool leading);
  // The informer of resource had to retry (watch/list error).
  void watch_error(const std::string& resource);

 private:
  metrics::Histogram& duration_;
  metrics::Gauge& queue_depth_;
  metrics::Gauge& leader_;
  metrics::Family<metrics::Counter>& reconciles_;
  metrics::Family<metrics::Counter>& errors_;
  metrics::Family<metrics::Counter>& watch_errors_;
};

}  // namespace etsecd::observability
