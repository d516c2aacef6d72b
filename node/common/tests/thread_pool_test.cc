// The pool behind forwarded requests and blocking client calls.
#include "etsecd/common/thread_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

using namespace etsecd;
using namespace std::chrono_literals;

TEST_CASE("a pool runs every task, grows to its bound, and runs tasks inline after stop") {
  ThreadPool pool("test-pool", 3);
  std::atomic<int> running{0}, peak{0}, done{0};
  std::promise<void> release;
  auto gate = release.get_future().share();
  for (int i = 0; i < 6; ++i) {
    pool.run([&, gate] {
      const int now = ++running;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      gate.wait();
      --running;
      ++done;
    });
  }
  std::this_thread::sleep_for(50ms);
  CHECK(peak == 3);  // bounded: the other three wait in the queue
  release.set_value();
  pool.stop();
  CHECK(done == 6);
  bool inline_run = false;
  const auto caller = std::this_thread::get_id();
  pool.run([&] { inline_run = std::this_thread::get_id() == caller; });
  CHECK(inline_run);
}

TEST_CASE("stop runs the tasks still queued before it joins") {
  ThreadPool pool("test-pool", 1);
  std::atomic<int> done{0};
  std::promise<void> release;
  auto gate = release.get_future().share();
  pool.run([&, gate] {
    gate.wait();
    ++done;
  });
  for (int i = 0; i < 5; ++i) pool.run([&] { ++done; });
  std::thread stopper([&] { pool.stop(); });
  std::this_thread::sleep_for(20ms);
  release.set_value();
  stopper.join();
  CHECK(done == 6);
}
