#include "etsecd/kube/work_queue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

using namespace etsecd::kube;
using namespace std::chrono_literals;

TEST_CASE("rate limiter: per-key exponential, forget resets, token bucket caps the overall rate") {
  ItemRateLimiter limiter(RateLimiterPolicy{5ms, 1000ms, 1000.0, 1000});
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  CHECK(limiter.when("a", t) == 5ms);
  CHECK(limiter.when("a", t) == 10ms);
  CHECK(limiter.when("a", t) == 20ms);
  CHECK(limiter.when("b", t) == 5ms);
  CHECK(limiter.failures("a") == 3);
  for (int i = 0; i < 20; ++i) (void)limiter.when("a", t);
  CHECK(limiter.when("a", t) == 1000ms);
  limiter.forget("a");
  CHECK(limiter.failures("a") == 0);
  CHECK(limiter.when("a", t) == 5ms);

  // Bucket: 10/s, burst 2; per-key delays tiny.
  ItemRateLimiter bucket(RateLimiterPolicy{0ms, 0ms, 10.0, 2});
  CHECK(bucket.when("k1", t) == 0ns);
  CHECK(bucket.when("k2", t) == 0ns);
  CHECK(bucket.when("k3", t) == 100ms);  // the third in the same instant waits for a token
  CHECK(bucket.when("k4", t) == 200ms);
  CHECK(bucket.when("k5", t + 1s) == 0ns);  // refilled
}

TEST_CASE("keys are de-duplicated and never processed twice at once") {
  WorkQueue q;
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");
  CHECK(q.depth() == 2);
  auto first = q.get();
  REQUIRE(first);
  CHECK(*first == "ns/a");
  q.add("ns/a");  // changed while being processed: queued after done(), not handed out now
  CHECK(q.depth() == 1);
  auto second = q.get();
  CHECK(*second == "ns/b");
  CHECK(q.depth() == 0);
  CHECK(q.in_progress() == 2);
  q.done("ns/a");
  CHECK(q.depth() == 1);
  CHECK(*q.get() == "ns/a");
  q.done("ns/a");
  q.done("ns/b");
  CHECK(q.depth() == 0);
  CHECK_FALSE(q.get_for(10ms));
}

TEST_CASE("delayed and rate-limited adds") {
  WorkQueue q(RateLimiterPolicy{30ms, 1s, 1000.0, 1000});
  auto start = std::chrono::steady_clock::now();
  // Generous delays: on a loaded 2-core machine this thread can be descheduled for tens of ms between
  // add_after and the checks below, which must still see the item as delayed.
  q.add_after("late", 400ms);
  q.add_after("late", 5s);  // a later due time does not postpone the earlier one
  CHECK(q.delayed() == 1);
  CHECK(q.depth() == 0);
  auto key = q.get();
  CHECK(*key == "late");
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  q.done("late");

  start = std::chrono::steady_clock::now();
  q.add_rate_limited("x");
  CHECK(q.num_requeues("x") == 1);
  CHECK(*q.get() == "x");
  CHECK(std::chrono::steady_clock::now() - start >= 30ms);
  q.done("x");
  q.forget("x");
  CHECK(q.num_requeues("x") == 0);

  q.add_after("soon", 10s);
  q.add("soon");  // an immediate add wins; the delayed copy is absorbed later
  CHECK(*q.get_for(1s) == "soon");
  q.done("soon");
}

TEST_CASE("shut down wakes blocked workers") {
  WorkQueue q;
  std::atomic<int> exited{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      while (auto key = q.get()) q.done(*key);
      exited++;
    });
  }
  q.add("a");
  std::this_thread::sleep_for(20ms);
  q.shut_down();
  for (auto& w : workers) w.join();
  CHECK(exited == 3);
  CHECK(q.shutting_down());
  q.add("b");
  CHECK(q.depth() == 0);
  CHECK_FALSE(q.get());
}

TEST_CASE("concurrent producers and workers: every key processed, never concurrently with itself") {
  WorkQueue q;
  constexpr int kKeys = 20;
  std::mutex mu;
  std::map<std::string, int> active;
  std::map<std::string, int> processed;
  bool overlap = false;
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&] {
      while (auto key = q.get()) {
        {
          std::lock_guard lock(mu);
          if (active[*key]++ > 0) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          active[*key]--;
          processed[*key]++;
        }
        q.done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < 500; ++i) {
        std::string key = "k" + std::to_string((i + p) % kKeys);
        if (i % 7 == 0) {
          q.add_after(key, 1ms);
        } else {
          q.add(key);
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  // Wait until the queue drains, then stop.
  for (int i = 0; i < 2000 && (q.depth() + q.delayed() + q.in_progress()) > 0; ++i)
    std::this_thread::sleep_for(5ms);
  q.shut_down();
  for (auto& t : threads) t.join();
  CHECK_FALSE(overlap);
  CHECK(processed.size() == kKeys);
}
