// The bookkeeping behind the callback write handlers: every call answered exactly once, whoever gets
// there first (the outcome, the deadline sweeper, shutdown).
#include "pending_calls.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

using namespace etsecd;
using namespace etsecd::api;
using namespace std::chrono_literals;

namespace {
auto later(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }
}  // namespace

TEST_CASE("a call is taken once; a taken call is neither expired nor given up at close") {
  PendingCalls calls(make_error("server.timeout", "late"), 10ms);
  std::atomic<int> gave_up{0};
  auto c = calls.add(later(30ms), [&](const Error&) { ++gave_up; });
  REQUIRE(c);
  CHECK(calls.size() == 1);
  CHECK_FALSE(c->answered());
  CHECK(c->take());
  CHECK(c->answered());
  CHECK_FALSE(c->take());
  CHECK(calls.size() == 0);
  std::this_thread::sleep_for(80ms);
  calls.close(make_error("server.stopped", "stopping"));
  CHECK(gave_up == 0);
}

TEST_CASE("the sweeper answers a call whose deadline passed with the late error, and only that one") {
  PendingCalls calls(make_error("server.timeout", "late"), 10ms);
  std::promise<std::string> late;
  std::atomic<int> long_one{0};
  auto a = calls.add(later(20ms), [&](const Error& e) { late.set_value(e.code); });
  auto b = calls.add(later(10s), [&](const Error&) { ++long_one; });
  auto f = late.get_future();
  REQUIRE(f.wait_for(2s) == std::future_status::ready);
  CHECK(f.get() == "server.timeout");
  CHECK_FALSE(a->take());  // the sweeper took it: a late outcome must not answer again
  CHECK(calls.size() == 1);
  CHECK(long_one == 0);
  CHECK(b->take());
}

TEST_CASE("close gives up every pending call with its error and refuses new ones") {
  PendingCalls calls(make_error("server.timeout", "late"));
  std::vector<std::string> errors;
  std::mutex mu;
  std::vector<std::shared_ptr<PendingCalls::Call>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(calls.add(later(10s), [&](const Error& e) {
      std::lock_guard lock(mu);
      errors.push_back(e.code);
    }));
  }
  CHECK(held[1]->take());
  calls.close(make_error("server.stopped", "stopping"));
  CHECK(errors == std::vector<std::string>{"server.stopped", "server.stopped"});
  CHECK_FALSE(held[0]->take());
  CHECK(calls.add(later(10s), [](const Error&) {}) == nullptr);
}

TEST_CASE("racing answerers: each call is answered exactly once") {
  PendingCalls calls(make_error("server.timeout", "late"), 1ms);
  constexpr int kCalls = 2000;
  std::vector<std::shared_ptr<PendingCalls::Call>> held;
  std::atomic<int> answers{0};
  for (int i = 0; i < kCalls; ++i) {
    // Deadlines spread over the race so the sweeper competes with the takers.
    held.push_back(calls.add(later(std::chrono::milliseconds(i % 20)), [&](const Error&) { ++answers; }));
  }
  std::vector<std::thread> takers;
  for (int t = 0; t < 3; ++t) {
    takers.emplace_back([&] {
      for (auto& c : held) {
        if (c->take()) ++answers;
      }
    });
  }
  for (auto& t : takers) t.join();
  calls.close(make_error("server.stopped", "stopping"));
  CHECK(answers == kCalls);
}
