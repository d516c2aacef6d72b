#include "etsecd/observability/operator_metrics.h"

#include <doctest/doctest.h>

using namespace etsecd;

TEST_CASE("operator metrics render under their etsecd_operator_* names") {
  metrics::Registry registry;
  observability::OperatorMetrics m(registry);
  std::string before = registry.render();
  CHECK(before.find("etsecd_operator_reconciles_total{result=\"success\"} 0") != std::string::npos);
  CHECK(before.find("etsecd_operator_reconciles_total{result=\"error\"} 0") != std::string::npos);

  m.reconcile_finished(0.25);
  m.reconcile_finished(0.5, "kube.conflict");
  m.set_queue_depth(3);
  m.set_leader(true);
  m.watch_error("pods");
  const std::string text = registry.render();
  CHECK(text.find("etsecd_operator_reconciles_total{result=\"success\"} 1") != std::string::npos);
  CHECK(text.find("etsecd_operator_reconciles_total{result=\"error\"} 1") != std::string::npos);
  CHECK(text.find("etsecd_operator_reconcile_errors_total{code=\"kube.conflict\"} 1") != std::string::npos);
  CHECK(text.find("etsecd_operator_reconcile_duration_seconds_count 2") != std::string::npos);
  CHECK(text.find("etsecd_operator_workqueue_depth 3") != std::string::npos);
  CHECK(text.find("etsecd_operator_leader 1") != std::string::npos);
  CHECK(text.find("etsecd_operator_watch_errors_total{resource=\"pods\"} 1") != std::string::npos);
}
