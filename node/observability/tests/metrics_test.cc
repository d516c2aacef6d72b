#include "etsecd/observability/metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace etsecd::metrics;

TEST_CASE("counter, gauge and histogram render in the exposition format") {
  Registry r;
  Counter& proposals = r.counter("etsecd_proposals_total", "Proposals accepted by the leader.");
  proposals.inc();
  proposals.inc(4);
  Gauge& term = r.gauge("etsecd_raft_term", "Current Raft term.");
  term.set(7);
  Histogram& put = r.histogram("etsecd_put_seconds", "Put latency.", {0.001, 0.01, 0.1});
  put.observe(0.0005);
  put.observe(0.001);  // on the bound: "less than or equal"
  put.observe(0.05);
  put.observe(3);
  CHECK(r.render() ==
        "# HELP etsecd_proposals_total Proposals accepted by the leader.\n"
        "# TYPE etsecd_proposals_total counter\n"
        "etsecd_proposals_total 5\n"
        "# HELP etsecd_put_seconds Put latency.\n"
        "# TYPE etsecd_put_seconds histogram\n"
        "etsecd_put_seconds_bucket{le=\"0.001\"} 2\n"
        "etsecd_put_seconds_bucket{le=\"0.01\"} 2\n"
        "etsecd_put_seconds_bucket{le=\"0.1\"} 3\n"
        "etsecd_put_seconds_bucket{le=\"+Inf\"} 4\n"
        "etsecd_put_seconds_sum 3.0515\n"
        "etsecd_put_seconds_count 4\n"
        "# HELP etsecd_raft_term Current Raft term.\n"
        "# TYPE etsecd_raft_term gauge\n"
        "etsecd_raft_term 7\n");
}

TEST_CASE("labels") {
  Registry r;
  auto& requests = r.counter_family("etsecd_requests_total", "Client requests.", {"method", "code"});
  requests.with({"Put", "OK"}).inc(2);
  requests.with({"Range", "OK"}).inc();
  CHECK(&requests.with({"Put", "OK"}) == &requests.with({"Put", "OK"}));
  auto& fetch = r.histogram_family("etsecd_share_fetch_seconds", "Share fetch latency.", {"kind"}, {0.5});
  fetch.with({"read"}).observe(0.25);
  auto& weird = r.gauge_family("etsecd_w", "Help with \\ and\nnewline.", {"l"});
  weird.with({"a\"b\\c\nd"}).set(-1.5);
  const std::string text = r.render();
  CHECK(text.find("etsecd_requests_total{method=\"Put\",code=\"OK\"} 2\n") != std::string::npos);
  CHECK(text.find("etsecd_requests_total{method=\"Range\",code=\"OK\"} 1\n") != std::string::npos);
  CHECK(text.find("etsecd_share_fetch_seconds_bucket{kind=\"read\",le=\"0.5\"} 1\n") != std::string::npos);
  CHECK(text.find("etsecd_share_fetch_seconds_bucket{kind=\"read\",le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(text.find("etsecd_share_fetch_seconds_sum{kind=\"read\"} 0.25\n") != std::string::npos);
  CHECK(text.find("# HELP etsecd_w Help with \\\\ and\\nnewline.\n") != std::string::npos);
  CHECK(text.find("etsecd_w{l=\"a\\\"b\\\\c\\nd\"} -1.5\n") != std::string::npos);
  // A labelled family with no children yet still declares itself.
  r.counter_family("etsecd_unused_total", "Unused.", {"x"});
  CHECK(r.render().find("# TYPE etsecd_unused_total counter\n") != std::string::npos);
}

TEST_CASE("registration is idempotent and misuse is refused") {
  Registry r;
  Counter& a = r.counter("etsecd_a_total", "A.");
  CHECK(&a == &r.counter("etsecd_a_total", "A."));
  CHECK_THROWS_AS(r.gauge("etsecd_a_total", "A."), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("etsecd_a_total", "Other help."), std::invalid_argument);
  CHECK_THROWS_AS(r.counter_family("etsecd_a_total", "A.", {"x"}), std::invalid_argument);
  r.histogram("etsecd_h", "H.", {1, 2});
  CHECK_THROWS_AS(r.histogram("etsecd_h", "H.", {1, 3}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("9bad", "B."), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("bad-name", "B."), std::invalid_argument);
  CHECK_THROWS_AS(r.counter_family("etsecd_b", "B.", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter_family("etsecd_b", "B.", {"x", "x"}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram_family("etsecd_c", "C.", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("etsecd_d", "D.", {2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("etsecd_d", "D.", {1, INFINITY}), std::invalid_argument);
  auto& f = r.counter_family("etsecd_e_total", "E.", {"x", "y"});
  CHECK_THROWS_AS(f.with({"only-one"}), std::invalid_argument);
  CHECK(r.render().find("etsecd_b") == std::string::npos);  // failed registrations leave nothing behind
}

TEST_CASE("numbers and buckets") {
  CHECK(format_number(0.1) == "0.1");
  CHECK(format_number(1e-4) == "0.0001");
  CHECK(format_number(INFINITY) == "+Inf");
  CHECK(format_number(-INFINITY) == "-Inf");
  CHECK(format_number(NAN) == "NaN");
  CHECK(exponential_buckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK_THROWS_AS(exponential_buckets(0, 2, 4), std::invalid_argument);
  CHECK_THROWS_AS(exponential_buckets(1, 1, 4), std::invalid_argument);
  CHECK(latency_buckets_seconds().size() == 18);
  CHECK(latency_buckets_seconds().front() == doctest::Approx(0.0001));
  Histogram h({1});
  h.observe(NAN);
  h.observe(-5);
  Histogram::Snapshot s = h.snapshot();
  CHECK(s.count == 1);
  CHECK(s.cumulative == std::vector<std::uint64_t>{1, 1});
  CHECK(s.sum == -5);
}

TEST_CASE("concurrent updates, lookups and renders lose nothing") {
  Registry r;
  auto& requests = r.counter_family("etsecd_requests_total", "Requests.", {"method"});
  auto& latency = r.histogram_family("etsecd_latency_seconds", "Latency.", {"method"}, {0.5, 1.5});
  Gauge& inflight = r.gauge("etsecd_inflight", "In flight.");
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  const char* methods[] = {"Put", "Range", "Txn", "DeleteRange"};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        const char* m = methods[(t + i) % 4];
        requests.with({m}).inc();
        latency.with({m}).observe(i % 2 == 0 ? 1.0 : 0.25);
        inflight.add(1);
        inflight.add(-1);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) {
      std::string text = r.render();
      CHECK(text.find("# TYPE etsecd_requests_total counter") != std::string::npos);
      r.counter("etsecd_renders_total", "Renders.").inc();
    }
  });
  for (auto& th : threads) th.join();
  std::uint64_t total = 0;
  std::uint64_t observed = 0;
  double sum = 0;
  for (const char* m : methods) {
    total += requests.with({m}).value();
    Histogram::Snapshot s = latency.with({m}).snapshot();
    observed += s.count;
    sum += s.sum;
    CHECK(s.cumulative[0] + (s.cumulative[1] - s.cumulative[0]) == s.cumulative[1]);
  }
  CHECK(total == std::uint64_t{kThreads} * kIterations);
  CHECK(observed == std::uint64_t{kThreads} * kIterations);
  CHECK(sum == doctest::Approx(kThreads * kIterations * 0.625));
  CHECK(inflight.value() == 0);
  CHECK(r.counter("etsecd_renders_total", "Renders.").value() == 200);
}
