// run_session against in-process members: holders answer through serve_shares, the new member through
// a Receiver, all over the same byte-level messages the peer transport carries.

#include "etsecd/repair/session.h"

#include <doctest/doctest.h>

#include <map>

#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/repair/receiver.h"
#include "fixture.h"

using namespace etsecd;
using namespace etsecd::repair;
using etsecd::repair::testing::all_records;
using etsecd::repair::testing::Fixture;
using etsecd::repair::testing::memory_store;
using etsecd::repair::testing::store_of;

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Members 1..5 hold shares x = id; member 6 is new. The leader is member 1.
struct World {
  Fixture f = Fixture::make(150, 4, 120, 21, 3, 6);
  std::map<uint64_t, std::unique_ptr<mvcc::Store>> stores;
  std::unique_ptr<mvcc::Store> target = memory_store();
  std::string installed_raft_meta;
  std::optional<mvcc::SnapshotPoint> published;
  Receiver receiver{*target, Receiver::Hooks{[this](const mvcc::SnapshotPoint&, const std::string& meta) {
                                               installed_raft_meta = meta;
                                               return Status::Ok();
                                             },
                                             [this](const mvcc::SnapshotPoint& p) { published = p; }}};
  std::map<uint64_t, int> calls;
  std::function<bool(uint64_t, const std::string&)> fail;  // injected transport failures

  // The new member's transport fails once `chunks` chunks went through (it dies mid-install).
  void crash_target_after(int chunks) {
    fail = [left = chunks](uint64_t id, const std::string& method) mutable {
      return id == 6 && method == "repair.chunk" && left-- <= 0;
    };
  }

  // A session the target's crash interrupts after `chunks` chunks; the resume point the leader kept.
  std::optional<ResumePoint> interrupted_session(int chunks, const SessionOptions& o) {
    crash_target_after(chunks);
    std::optional<ResumePoint> fixed;
    auto p = plan();
    p.fixed = [&](const ResumePoint& point, const std::string&) { fixed = point; };
    REQUIRE_FALSE(run_session(*stores.at(1), p, call(), o).ok());
    fail = nullptr;
    return fixed;
  }

  World() {
    for (uint8_t x = 1; x <= 5; ++x) stores[x] = store_of(f, x);
  }

  CallFn call() {
    return [this](uint64_t id, const std::string& method, const std::string& body) -> Result<std::string> {
      ++calls[id];
      if (fail && fail(id, method)) return make_error("transport.unreachable", "injected failure");
      if (id == 6) return receiver.handle(method, bytes_of(body));
      return serve_shares(*stores.at(id), bytes_of(body));
    };
  }

  SessionPlan plan(std::vector<Peer> holders = {{2, 2}, {3, 3}, {4, 4}, {5, 5}}, uint64_t source = 99) {
    SessionPlan p;
    p.self_x = 1;
    p.threshold = 3;
    p.holders = std::move(holders);
    p.target = Peer{6, 6};
    p.source = source;
    p.raft_snapshot = [](const mvcc::SnapshotPoint& point) -> Result<std::string> {
      return "raft-meta@" + std::to_string(point.applied_index);
    };
    return p;
  }
};

}  // namespace

TEST_CASE("a repair session gives the new member exactly its shares and publishes the snapshot") {
  World w;
  SessionOptions o;
  o.max_records = 40;
  auto stats = run_session(*w.stores[1], w.plan(), w.call(), o);
  REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
  CHECK_FALSE(stats->resumed);
  CHECK(stats->chunks == (w.f.by_x[6].size() + 39) / 40);
  CHECK(all_records(*w.target) == w.f.by_x[6]);
  CHECK(w.target->snapshot_point() == w.f.point);
  CHECK(w.installed_raft_meta == "raft-meta@" + std::to_string(w.f.point.applied_index));
  REQUIRE(w.published.has_value());
  CHECK(*w.published == w.f.point);
  CHECK(w.calls[5] == 0);  // k = 3 holders asked (k+1 shares with the leader's), not the fourth
  CHECK(stats->rebuild.checked_extra == stats->rebuild.shares_computed);
}

TEST_CASE("a repair interrupted mid-way (the new member dies) resumes after the last installed chunk") {
  World w;
  SessionOptions o;
  o.max_records = 30;
  w.crash_target_after(4);
  auto first = run_session(*w.stores[1], w.plan(), w.call(), o);
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().code == "transport.unreachable");
  CHECK(w.target->install_state().active);
  w.fail = nullptr;
  auto second = run_session(*w.stores[1], w.plan(), w.call(), o);
  REQUIRE(second.ok());
  CHECK(second->resumed);
  const size_t total_chunks = (w.f.by_x[6].size() + 29) / 30;
  CHECK(second->chunks == total_chunks - 4);
  CHECK(all_records(*w.target) == w.f.by_x[6]);

  // A different snapshot (a new leader's) starts over instead of mixing two snapshots.
  auto third = run_session(
      *w.stores[2],
      [&] {
        auto p = w.plan({{1, 1}, {3, 3}}, 100);
        p.self_x = 2;
        return p;
      }(),
      w.call(), o);
  REQUIRE(third.ok());
  CHECK_FALSE(third->resumed);
  CHECK(all_records(*w.target) == w.f.by_x[6]);
}

TEST_CASE("unreachable, lagging and lying holders are skipped for others") {
  World w;
  // Holder 2 is unreachable.
  w.fail = [](uint64_t id, const std::string&) { return id == 2; };
  auto stats = run_session(*w.stores[1], w.plan(), w.call());
  REQUIRE(stats.ok());
  CHECK(stats->holder_failures >= 1);
  CHECK(all_records(*w.target) == w.f.by_x[6]);

  // Holder 3 is behind the snapshot (repair.behind): holders 2 and 4 serve.
  World lag;
  REQUIRE(lag.stores[1]->apply_noop(lag.f.point.applied_index + 1).ok());
  REQUIRE(lag.stores[2]->apply_noop(lag.f.point.applied_index + 1).ok());
  REQUIRE(lag.stores[4]->apply_noop(lag.f.point.applied_index + 1).ok());
  REQUIRE(lag.stores[5]->apply_noop(lag.f.point.applied_index + 1).ok());
  auto lagged = run_session(*lag.stores[1], lag.plan({{3, 3}, {2, 2}, {4, 4}, {5, 5}}), lag.call());
  REQUIRE(lagged.ok());
  CHECK(lagged->holder_failures == 1);
  CHECK(all_records(*lag.target) == lag.f.by_x[6]);
}

TEST_CASE("a holder with a checksum-valid but wrong share is outvoted; with too few holders it is an error") {
  // Holder 2's records carry shares of other values: valid checksums, wrong polynomials.
  auto other = Fixture::make(150, 4, 120, 777, 3, 6);
  World w;
  w.stores[2] = store_of(other, 2);
  auto stats = run_session(*w.stores[1], w.plan(), w.call());
  REQUIRE_MESSAGE(stats.ok(), (stats.ok() ? "" : stats.error().message));
  CHECK(w.calls[5] > 0);  // the fourth holder was asked once the first three disagreed
  CHECK(stats->rebuild.outvoted_shares > 0);
  CHECK(all_records(*w.target) == w.f.by_x[6]);

  // Only three holders, one lying: the disagreement is reported, nothing wrong is installed.
  World few;
  few.stores[2] = store_of(other, 2);
  auto refused = run_session(*few.stores[1], few.plan({{2, 2}, {3, 3}, {4, 4}}), few.call());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "repair.inconsistent_shares");
  CHECK_FALSE(few.published.has_value());

  World lonely;
  lonely.fail = [](uint64_t id, const std::string& m) { return m == "repair.shares" && id != 2; };
  auto none = run_session(*lonely.stores[1], lonely.plan(), lonely.call());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == "repair.no_holders");
  CHECK(run_session(*lonely.stores[1], lonely.plan({{2, 2}}), lonely.call()).error().code ==
        "repair.no_holders");
}

TEST_CASE("a cancelled session stops between chunks and leaves a resumable install") {
  World w;
  std::atomic<bool> cancel{false};
  SessionOptions o;
  o.max_records = 20;
  o.cancel = &cancel;
  int chunks = 0;
  w.fail = [&](uint64_t id, const std::string& m) {
    if (id == 6 && m == "repair.chunk" && ++chunks == 3) cancel = true;
    return false;
  };
  auto stats = run_session(*w.stores[1], w.plan(), w.call(), o);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.error().code == "repair.cancelled");
  CHECK(w.target->install_state().started);
  CHECK_FALSE(w.published.has_value());
}

TEST_CASE("a retry resumes the interrupted snapshot while the leader can still export it") {
  World w;
  SessionOptions o;
  o.max_records = 30;
  auto fixed = w.interrupted_session(4, o);
  REQUIRE(fixed.has_value());
  CHECK(fixed->source == 99);
  CHECK(fixed->point == w.f.point);

  // The leader applied more since (its current point moved on) and the retry has a new source: it
  // still continues the old snapshot after the target's cursor, at the old point.
  for (auto& [id, store] : w.stores) REQUIRE(store->apply_noop(w.f.point.applied_index + 1).ok());
  auto retry = w.plan({{2, 2}, {3, 3}, {4, 4}, {5, 5}}, 100);
  retry.resume = fixed;
  std::vector<uint64_t> begun_at;
  retry.raft_snapshot = [&](const mvcc::SnapshotPoint& p) -> Result<std::string> {
    begun_at.push_back(p.applied_index);
    return "raft-meta@" + std::to_string(p.applied_index);
  };
  auto second = run_session(*w.stores[1], retry, w.call(), o);
  REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().message));
  CHECK(second->resumed);
  CHECK(second->restart_reason.empty());
  CHECK(begun_at == std::vector<uint64_t>{w.f.point.applied_index});
  const size_t total_chunks = (w.f.by_x[6].size() + 29) / 30;
  CHECK(second->chunks == total_chunks - 4);
  CHECK(second->point == w.f.point);
  CHECK(all_records(*w.target) == w.f.by_x[6]);
  REQUIRE(w.published.has_value());
  CHECK(*w.published == w.f.point);  // the old point, not a mix of the old and the new
  CHECK(second->rebuild.checked_extra == second->rebuild.shares_computed);  // still k+1 per record
}

TEST_CASE("a retry starts over when the interrupted snapshot cannot be exported exactly any more") {
  struct Case {
    const char* name;
    std::function<void(World&, SessionPlan&)> change;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"compacted since",
       [](World& w, SessionPlan&) {
         const mvcc::Operation compact{mvcc::CompactOp{w.f.point.current_revision - 50, false}};
         for (auto& [id, store] : w.stores) {
           REQUIRE(store->apply(w.f.point.applied_index + 1, compact, {}).ok());
         }
       },
       "compacted"},
      {"raft log compacted past the point",
       [](World& w, SessionPlan& p) {
         for (auto& [id, store] : w.stores) REQUIRE(store->apply_noop(w.f.point.applied_index + 1).ok());
         const uint64_t old_index = w.f.point.applied_index;
         p.raft_snapshot = [old_index](const mvcc::SnapshotPoint& point) -> Result<std::string> {
           if (point.applied_index == old_index) return make_error("raft.compacted", "compacted");
           return "raft-meta@" + std::to_string(point.applied_index);
         };
       },
       "raft log"},
      {"a point this leader has not applied",
       [](World&, SessionPlan& p) { p.resume->point.applied_index += 1000; }, "not applied"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    World w;
    SessionOptions o;
    o.max_records = 30;
    auto fixed = w.interrupted_session(2, o);
    REQUIRE(fixed.has_value());
    auto retry = w.plan({{2, 2}, {3, 3}, {4, 4}, {5, 5}}, 100);
    retry.resume = fixed;
    c.change(w, retry);
    std::optional<ResumePoint> refixed;
    retry.fixed = [&](const ResumePoint& p, const std::string&) { refixed = p; };
    auto second = run_session(*w.stores[1], retry, w.call(), o);
    REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().message));
    CHECK_FALSE(second->resumed);
    CHECK(second->restart_reason.find(c.reason) != std::string::npos);
    REQUIRE(refixed.has_value());
    CHECK(refixed->source == 100);
    CHECK(refixed->point == w.stores[1]->snapshot_point());
    REQUIRE(w.published.has_value());
    CHECK(*w.published == w.stores[1]->snapshot_point());
    CHECK(w.target->snapshot_point() == w.stores[1]->snapshot_point());
    // Everything the leader still holds, each with the target's share, and nothing from the old install
    // that the new point does not have.
    auto expected = all_records(*w.stores[1]);
    auto got = all_records(*w.target);
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i].first == expected[i].first);
  }
}
