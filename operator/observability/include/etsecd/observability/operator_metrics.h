#pragma once
// The operator's own metrics, registered under etsecd_operator_*.

#include <string>

#include "etsecd/observability/metrics_registry.h"

namespace etsecd::observability {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(MetricsRegistry& registry);

  // One reconcile pass of a cluster finished. error_code is "" on success, else the etsecd::Error code
  // ("kube.conflict", ...), which becomes a label of the error counter.
  void reconcile_finished(double seconds, const std::string& error_code = "");
  void set_queue_depth(double depth);
  void set_leader(bool leading);
  // The informer of resource had to retry (watch/list error).
  void watch_error(const std::string& resource);

 private:
  MetricsRegistry& registry_;
  Histogram& duration_;
  Gauge& queue_depth_;
  Gauge& leader_;
};

}  // namespace etsecd::observability
