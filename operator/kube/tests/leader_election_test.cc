#include "etsecd/kube/leader_election.h"

#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <thread>

#include "etsecd/kube/errors.h"

using namespace etsecd::kube;
using namespace std::chrono_literals;

namespace {

// One Lease with optimistic concurrency, like the API server's.
class FakeLeaseStore {
 public:
  std::optional<ObservedLease> lease;
  int next_rv = 1;
  std::mutex mu;
  std::function<void()> during_call;  // lets a test advance time while a request is "in flight"

  void hook() {
    if (during_call) during_call();
  }
};

// A candidate's view of the store, which a test can cut off (a network partition).
class CandidateStore final : public LeaseStore {
 public:
  explicit CandidateStore(FakeLeaseStore& store) : store_(store) {}
  std::atomic<bool> partitioned{false};

  etsecd::Result<std::optional<ObservedLease>> get() override {
    if (partitioned) return make_kube_error(ErrorKind::kTransport, "partitioned");
    store_.hook();
    std::lock_guard lock(store_.mu);
    return store_.lease;
  }
  etsecd::Result<ObservedLease> create(const LeaseRecord& record) override {
    if (partitioned) return make_kube_error(ErrorKind::kTransport, "partitioned");
    store_.hook();
    std::lock_guard lock(store_.mu);
    if (store_.lease) return make_kube_error(ErrorKind::kAlreadyExists, "leases \"op\" already exists");
    store_.lease = ObservedLease{record, std::to_string(store_.next_rv++)};
    return *store_.lease;
  }
  etsecd::Result<ObservedLease> update(const LeaseRecord& record, const std::string& rv) override {
    if (partitioned) return make_kube_error(ErrorKind::kTransport, "partitioned");
    store_.hook();
    std::lock_guard lock(store_.mu);
    if (!store_.lease) return make_kube_error(ErrorKind::kNotFound, "leases \"op\" not found");
    if (store_.lease->resource_version != rv) return make_kube_error(ErrorKind::kConflict, "modified");
    store_.lease = ObservedLease{record, std::to_string(store_.next_rv++)};
    return *store_.lease;
  }

 private:
  FakeLeaseStore& store_;
};

LeaderElectionConfig config_for(const std::string& id) {
  LeaderElectionConfig c;
  c.identity = id;
  return c;  // client-go defaults: 15s / 10s / 2s
}

}  // namespace

TEST_CASE("config validation") {
  CHECK(validate(config_for("a")).ok());
  CHECK_FALSE(validate(config_for("")).ok());
  auto c = config_for("a");
  c.renew_deadline = 15s;
  CHECK_FALSE(validate(c).ok());
  c = config_for("a");
  c.retry_period = 9s;
  CHECK_FALSE(validate(c).ok());
  c = config_for("a");
  c.lease_duration = 15500ms;
  CHECK_FALSE(validate(c).ok());
}

TEST_CASE("first candidate acquires; the other waits while the lease is renewed") {
  FakeLeaseStore store;
  CandidateStore sa(store), sb(store);
  ManualClock clock;
  LeaderElector a(config_for("a"), sa, clock), b(config_for("b"), sb, clock);
  CHECK(a.try_acquire_or_renew());
  CHECK(a.is_leader());
  CHECK(store.lease->record.holder_identity == "a");
  CHECK(store.lease->record.lease_duration_seconds == 15);
  CHECK_FALSE(b.try_acquire_or_renew());
  CHECK(b.leader() == "a");
  for (int i = 0; i < 20; ++i) {
    clock.advance(2s);
    CHECK(a.try_acquire_or_renew());
    CHECK_FALSE(b.try_acquire_or_renew());
    CHECK(a.is_leader());
    CHECK_FALSE(b.is_leader());
  }
  CHECK(store.lease->record.lease_transitions == 0);
}

TEST_CASE("takeover only after the lease duration without renewal, with a transition counted") {
  FakeLeaseStore store;
  CandidateStore sa(store), sb(store);
  ManualClock clock;
  LeaderElector a(config_for("a"), sa, clock), b(config_for("b"), sb, clock);
  REQUIRE(a.try_acquire_or_renew());
  CHECK_FALSE(b.try_acquire_or_renew());  // b observes the record now
  // a dies. b must see the same record unchanged for 15s.
  clock.advance(14s);
  CHECK_FALSE(b.try_acquire_or_renew());
  CHECK_FALSE(a.is_leader());  // a's own deadline (10s) passed long ago
  clock.advance(1s);
  CHECK(b.try_acquire_or_renew());
  CHECK(b.is_leader());
  CHECK(store.lease->record.holder_identity == "b");
  CHECK(store.lease->record.lease_transitions == 1);
  // a comes back: it sees b and does not act.
  CHECK_FALSE(a.try_acquire_or_renew());
  CHECK_FALSE(a.is_leader());
  CHECK(a.leader() == "b");
}

TEST_CASE("a partitioned leader stops acting before anyone else can start") {
  FakeLeaseStore store;
  CandidateStore sa(store), sb(store);
  ManualClock clock;
  LeaderElector a(config_for("a"), sa, clock), b(config_for("b"), sb, clock);
  REQUIRE(a.try_acquire_or_renew());
  sa.partitioned = true;
  bool a_stopped = false;
  bool b_started = false;
  for (int step = 0; step < 100; ++step) {
    clock.advance(500ms);
    a.try_acquire_or_renew();
    b.try_acquire_or_renew();
    CHECK_FALSE((a.is_leader() && b.is_leader()));
    if (!a.is_leader()) a_stopped = true;
    if (b.is_leader()) {
      CHECK(a_stopped);
      b_started = true;
    }
  }
  CHECK(b_started);
  REQUIRE(a.last_error());
  CHECK(a.last_error()->code == "kube.transport");
}

TEST_CASE("release hands over at once") {
  FakeLeaseStore store;
  CandidateStore sa(store), sb(store);
  ManualClock clock;
  LeaderElector a(config_for("a"), sa, clock), b(config_for("b"), sb, clock);
  REQUIRE(a.try_acquire_or_renew());
  CHECK_FALSE(b.try_acquire_or_renew());
  REQUIRE(a.release().ok());
  CHECK_FALSE(a.is_leader());
  CHECK(store.lease->record.holder_identity.empty());
  CHECK(b.try_acquire_or_renew());
  CHECK(b.is_leader());
}

TEST_CASE("random interleavings with slow requests and partitions never give two leaders") {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    FakeLeaseStore store;
    ManualClock clock;
    std::mt19937_64 rng(seed);
    std::vector<std::unique_ptr<CandidateStore>> stores;
    std::vector<std::unique_ptr<LeaderElector>> electors;
    for (int i = 0; i < 3; ++i) {
      stores.push_back(std::make_unique<CandidateStore>(store));
      electors.push_back(
          std::make_unique<LeaderElector>(config_for("c" + std::to_string(i)), *stores.back(), clock));
    }
    auto check_one_leader = [&] {
      int leaders = 0;
      for (auto& e : electors) leaders += e->is_leader() ? 1 : 0;
      CHECK(leaders <= 1);
    };
    // Requests take a random while; the invariant must hold mid-request too.
    store.during_call = [&] {
      clock.advance(std::chrono::milliseconds(rng() % 3000));
      check_one_leader();
    };
    int transitions_seen = 0;
    std::string last_holder;
    for (int step = 0; step < 400; ++step) {
      int who = static_cast<int>(rng() % 3);
      if (rng() % 10 == 0) stores[who]->partitioned = !stores[who]->partitioned.load();
      electors[who]->try_acquire_or_renew();
      check_one_leader();
      clock.advance(std::chrono::milliseconds(rng() % 4000));
      check_one_leader();
      if (store.lease && store.lease->record.holder_identity != last_holder) {
        last_holder = store.lease->record.holder_identity;
        ++transitions_seen;
      }
    }
    CHECK(transitions_seen >= 2);  // the schedule really did move leadership around
  }
}

TEST_CASE("Lease JSON round trip") {
  LeaseRecord r{"op-1", 15, "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:02.000000Z", 3};
  nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", "op"}, {"resourceVersion", "77"}}},
                          {"spec", lease_spec_json(r)}};
  auto back = observed_lease_from_json(lease);
  REQUIRE(back.ok());
  CHECK(back->record == r);
  CHECK(back->resource_version == "77");
  CHECK_FALSE(observed_lease_from_json(nlohmann::json{{"kind", "Pod"}}).ok());
}

TEST_CASE("the runner leads, and steps down when renewals stop succeeding") {
  FakeLeaseStore store;
  CandidateStore sa(store);
  auto config = config_for("a");
  config.lease_duration = 3s;
  config.renew_deadline = 1s;
  config.retry_period = 50ms;
  REQUIRE(validate(config).ok());
  LeaderElector a(config, sa, system_clock());
  StopSignal stop;
  std::atomic<bool> started{false}, stopped{false}, leader_when_started{false};
  std::string new_leader;
  LeaderCallbacks callbacks;
  callbacks.on_started_leading = [&] {
    leader_when_started = a.is_leader();
    started = true;
  };
  callbacks.on_stopped_leading = [&] { stopped = true; };
  callbacks.on_new_leader = [&](const std::string& id) { new_leader = id; };
  std::thread runner([&] { run_leader_election(a, callbacks, stop); });
  while (!started) std::this_thread::sleep_for(5ms);
  CHECK(leader_when_started);
  sa.partitioned = true;  // renewals fail from now on
  runner.join();          // returns by itself once the renew deadline passes
  CHECK(stopped);
  CHECK_FALSE(a.is_leader());
  CHECK(new_leader == "a");
}
