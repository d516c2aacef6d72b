#include <doctest/doctest.h>

#include "harness.h"

using namespace etsecd::mvcc;
using namespace etsecd::mvcc::testing;

namespace {

Compare cmp(CompareTarget target, CompareResult result, const std::string& key, int64_t number) {
  Compare c;
  c.target = target;
  c.result = result;
  c.key = key;
  c.number = number;
  return c;
}

RequestOp put_op(const std::string& key, uint32_t slot, bool prev_kv = false) {
  PutOp p;
  p.key = key;
  p.value_slot = slot;
  p.prev_kv = prev_kv;
  return RequestOp{p};
}

RequestOp get_op(const std::string& key) {
  RangeOp r;
  r.key = key;
  return RequestOp{r};
}

const TxnResult& txn_result(const ApplyResult& r) { return std::get<TxnResult>(r.result); }

}  // namespace

TEST_CASE("txn compares on version, create and mod revision pick the branch") {
  Harness h;
  REQUIRE(h.put("k", "s").ok());  // create=mod=2, version 1

  struct Case {
    Compare c;
    bool expect;
  };
  std::vector<Case> cases{
      {cmp(CompareTarget::kVersion, CompareResult::kEqual, "k", 1), true},
      {cmp(CompareTarget::kVersion, CompareResult::kGreater, "k", 1), false},
      {cmp(CompareTarget::kCreate, CompareResult::kEqual, "k", 2), true},
      {cmp(CompareTarget::kMod, CompareResult::kLess, "k", 3), true},
      {cmp(CompareTarget::kMod, CompareResult::kNotEqual, "k", 2), false},
      // A missing key compares as zeros: the usual "create if absent" idiom.
      {cmp(CompareTarget::kCreate, CompareResult::kEqual, "absent", 0), true},
      {cmp(CompareTarget::kVersion, CompareResult::kGreater, "absent", 0), false},
      {cmp(CompareTarget::kLease, CompareResult::kEqual, "k", 0), true},
  };
  for (const auto& tc : cases) {
    TxnOp t;
    t.compares = {tc.c};
    t.success = {get_op("k")};
    auto r = h.apply(Operation{t});
    REQUIRE(r.ok());
    CHECK(txn_result(*r).succeeded == tc.expect);
    CHECK(txn_result(*r).responses.size() == (tc.expect ? 1u : 0u));
    CHECK(r->revision == 2);  // read-only txns create no revision
  }
}

TEST_CASE("a txn's writes share one main revision with increasing sub revisions") {
  Harness h;
  TxnOp t;
  t.success = {put_op("a", 0), put_op("b", 1, true), get_op("a")};
  auto r = h.apply(Operation{t}, {"sa", "sb"});
  REQUIRE(r.ok());
  CHECK(r->revision == 2);
  const auto& responses = txn_result(*r).responses;
  REQUIRE(responses.size() == 3);
  // A range inside the txn sees the txn's own earlier put.
  const auto& range = std::get<RangeResult>(responses[2].result);
  REQUIRE(range.kvs.size() == 1);
  CHECK(range.kvs[0].share == "sa");
  CHECK(range.kvs[0].mod_revision == 2);
  CHECK(h.get("b").kvs.at(0).mod_revision == 2);
  REQUIRE(h.backend->records().size() == 2);
  CHECK(h.backend->records().begin()->first.rev == Revision{2, 0});
  CHECK(std::next(h.backend->records().begin())->first.rev == Revision{2, 1});
}

TEST_CASE("the failure branch runs when a compare fails, including nested txns") {
  Harness h;
  REQUIRE(h.put("k", "s").ok());
  TxnOp inner;
  inner.compares = {cmp(CompareTarget::kVersion, CompareResult::kEqual, "k", 1)};
  inner.success = {put_op("inner-yes", 0)};
  inner.failure = {put_op("inner-no", 0)};
  TxnOp outer;
  outer.compares = {cmp(CompareTarget::kVersion, CompareResult::kEqual, "k", 5)};
  outer.success = {put_op("outer-yes", 0)};
  outer.failure = {RequestOp{inner}};
  auto r = h.apply(Operation{outer}, {"share"});
  REQUIRE(r.ok());
  CHECK_FALSE(txn_result(*r).succeeded);
  const auto& nested = std::get<TxnResult>(txn_result(*r).responses.at(0).result);
  CHECK(nested.succeeded);
  CHECK(h.get("inner-yes").kvs.size() == 1);
  CHECK(h.get("inner-no").kvs.empty());
  CHECK(h.get("outer-yes").kvs.empty());
}

TEST_CASE("value compares: the leader's verdict holds while the observed revisions hold") {
  Harness h;
  REQUIRE(h.put("k", "share-of-v1").ok());  // mod 2
  Compare c = cmp(CompareTarget::kValue, CompareResult::kEqual, "k", 0);
  c.value_outcome = true;
  c.observed = {ObservedKey{"k", 2}};
  TxnOp t;
  t.compares = {c};
  t.success = {put_op("k", 0)};
  t.failure = {get_op("k")};

  SUBCASE("unchanged key: the verdict is used") {
    auto r = h.apply(Operation{t}, {"share-of-v2"});
    REQUIRE(r.ok());
    CHECK(txn_result(*r).succeeded);
    CHECK(h.get("k").kvs.at(0).share == "share-of-v2");
  }
  SUBCASE("key changed after the leader looked: nothing applied, retry") {
    REQUIRE(h.put("k", "share-of-other").ok());  // mod 3
    uint64_t before = h.store->applied_index();
    auto r = h.apply(Operation{t}, {"share-of-v2"});
    REQUIRE(r.ok());
    CHECK(std::holds_alternative<RetryNeeded>(r->result));
    CHECK(r->revision == 3);
    CHECK(h.store->applied_index() == before + 1);
    CHECK(h.get("k").kvs.at(0).share == "share-of-other");
  }
  SUBCASE("a key appearing in the compared range also invalidates the verdict") {
    Compare ranged = c;
    ranged.range_end = "l";
    TxnOp t2 = t;
    t2.compares = {ranged};
    REQUIRE(h.put("k2", "x").ok());
    auto r = h.apply(Operation{t2}, {"s"});
    REQUIRE(r.ok());
    CHECK(std::holds_alternative<RetryNeeded>(r->result));
  }
  SUBCASE("a value compare over no key always fails, whatever the leader says") {
    Compare absent = cmp(CompareTarget::kValue, CompareResult::kNotEqual, "nothing", 0);
    absent.value_outcome = true;
    TxnOp t3;
    t3.compares = {absent};
    t3.success = {put_op("x", 0)};
    auto r = h.apply(Operation{t3}, {"s"});
    REQUIRE(r.ok());
    CHECK_FALSE(txn_result(*r).succeeded);
  }
}

TEST_CASE("a txn refused at apply time changes nothing") {
  Harness h;
  REQUIRE(h.put("a", "1").ok());  // 2
  REQUIRE(h.put("a", "2").ok());  // 3
  REQUIRE(h.compact(3).ok());
  TxnOp t;
  RangeOp old;
  old.key = "a";
  old.revision = 2;
  t.success = {put_op("b", 0), RequestOp{old}};
  auto r = h.apply(Operation{t}, {"s"});
  REQUIRE_FALSE(r.ok());
  CHECK(is(r.error(), kCompacted));
  CHECK(h.get("b").kvs.empty());
  CHECK(h.store->current_revision() == 3);

  RangeOp future;
  future.key = "a";
  future.revision = 4;
  t.success = {put_op("b", 0), RequestOp{future}};
  CHECK(is(h.apply(Operation{t}, {"s"}).error(), kFutureRevision));
  CHECK(h.get("b").kvs.empty());
}

TEST_CASE("delete inside a txn returns prev_kvs and later ops see the deletion") {
  Harness h;
  REQUIRE(h.put("p/1", "s1").ok());
  REQUIRE(h.put("p/2", "s2").ok());
  TxnOp t;
  t.success = {RequestOp{DeleteRangeOp{"p/", "p0", true}}, get_op("p/1")};
  auto r = h.apply(Operation{t});
  REQUIRE(r.ok());
  CHECK(r->revision == 4);
  const auto& del = std::get<DeleteRangeResult>(txn_result(*r).responses.at(0).result);
  CHECK(del.deleted == 2);
  REQUIRE(del.prev_kvs.size() == 2);
  CHECK(del.prev_kvs[1].share == "s2");
  CHECK(std::get<RangeResult>(txn_result(*r).responses.at(1).result).kvs.empty());
}
