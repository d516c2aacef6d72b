#include "etsecd/observability/metrics_registry.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "etsecd/observability/operator_metrics.h"

using namespace etsecd::observability;

TEST_CASE("text exposition format") {
  MetricsRegistry r;
  r.counter("etsecd_operator_reconciles_total", "Reconcile passes.", {{"result", "success"}}).inc(3);
  r.counter("etsecd_operator_reconciles_total", "Reconcile passes.", {{"result", "error"}}).inc();
  r.gauge("etsecd_operator_workqueue_depth", "Queue depth.\nSecond line \\ here").set(2);
  auto& h = r.histogram("etsecd_operator_reconcile_duration_seconds", "Durations.", {0.1, 1});
  h.observe(0.05);
  h.observe(0.1);
  h.observe(0.5);
  h.observe(7);
  r.counter("x_total", "Escapes.", {{"path", "a\"b\\c\nd"}}).inc(0.5);
  CHECK(r.render() ==
        "# HELP etsecd_operator_reconcile_duration_seconds Durations.\n"
        "# TYPE etsecd_operator_reconcile_duration_seconds histogram\n"
        "etsecd_operator_reconcile_duration_seconds_bucket{le=\"0.1\"} 2\n"
        "etsecd_operator_reconcile_duration_seconds_bucket{le=\"1\"} 3\n"
        "etsecd_operator_reconcile_duration_seconds_bucket{le=\"+Inf\"} 4\n"
        "etsecd_operator_reconcile_duration_seconds_sum 7.65\n"
        "etsecd_operator_reconcile_duration_seconds_count 4\n"
        "# HELP etsecd_operator_reconciles_total Reconcile passes.\n"
        "# TYPE etsecd_operator_reconciles_total counter\n"
        "etsecd_operator_reconciles_total{result=\"error\"} 1\n"
        "etsecd_operator_reconciles_total{result=\"success\"} 3\n"
        "# HELP etsecd_operator_workqueue_depth Queue depth.\\nSecond line \\\\ here\n"
        "# TYPE etsecd_operator_workqueue_depth gauge\n"
        "etsecd_operator_workqueue_depth 2\n"
        "# HELP x_total Escapes.\n"
        "# TYPE x_total counter\n"
        "x_total{path=\"a\\\"b\\\\c\\nd\"} 0.5\n");
}

TEST_CASE("misuse is refused") {
  MetricsRegistry r;
  r.counter("a_total", "A.");
  CHECK_THROWS_AS(r.gauge("a_total", "A."), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("1bad", "B."), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("ok_total", "B.", {{"le", "x"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("ok_total", "B.", {{"bad-label", "x"}}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("a_total", "A.").inc(-1), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h", "H.", {1, 0.5}), std::invalid_argument);
  r.histogram("h2", "H.", {1, 2});
  CHECK_THROWS_AS(r.histogram("h2", "H.", {1, 3}), std::invalid_argument);
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
  CHECK(format_value(1e-9) == "1e-09");
}

TEST_CASE("operator metrics") {
  MetricsRegistry r;
  OperatorMetrics m(r);
  m.reconcile_finished(0.02);
  m.reconcile_finished(1.5, "kube.conflict");
  m.set_queue_depth(4);
  m.set_leader(true);
  m.watch_error("pods");
  std::string text = r.render();
  CHECK(text.find("etsecd_operator_reconciles_total{result=\"success\"} 1\n") != std::string::npos);
  CHECK(text.find("etsecd_operator_reconciles_total{result=\"error\"} 1\n") != std::string::npos);
  CHECK(text.find("etsecd_operator_reconcile_errors_total{code=\"kube.conflict\"} 1\n") != std::string::npos);
  CHECK(text.find("etsecd_operator_reconcile_duration_seconds_count 2\n") != std::string::npos);
  CHECK(text.find("etsecd_operator_workqueue_depth 4\n") != std::string::npos);
  CHECK(text.find("etsecd_operator_leader 1\n") != std::string::npos);
  CHECK(text.find("etsecd_operator_watch_errors_total{resource=\"pods\"} 1\n") != std::string::npos);
}

TEST_CASE("concurrent updates and renders") {
  MetricsRegistry r;
  auto& c = r.counter("c_total", "C.");
  auto& h = r.histogram("h_seconds", "H.", default_duration_buckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        c.inc();
        h.observe(0.001 * i);
        r.gauge("g", "G.", {{"t", std::to_string(t)}}).set(i);
        if (i % 100 == 0) (void)r.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(c.value() == 4000);
  CHECK(h.snapshot().count == 4000);
}
