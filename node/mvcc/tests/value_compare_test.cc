#include "etsecd/mvcc/value_compare.h"

#include <doctest/doctest.h>

#include "harness.h"

using namespace etsecd;
using namespace etsecd::mvcc;
using namespace etsecd::mvcc::testing;

namespace {

// In this test a "share" is the value itself, so the reader can "rebuild" by reading the store.
ValueReader reader_over(const Store& store) {
  return [&store](std::string_view key, std::string_view end) -> Result<std::vector<ObservedValue>> {
    RangeOp op;
    op.key = std::string(key);
    op.range_end = std::string(end);
    auto r = store.range(op);
    if (!r) return r.error();
    std::vector<ObservedValue> out;
    for (const auto& kv : r->kvs)
      out.push_back(ObservedValue{ObservedKey{kv.key, kv.mod_revision}, kv.share});
    return out;
  };
}

Compare value_cmp(const std::string& key, CompareResult result, const std::string& end = "") {
  Compare c;
  c.key = key;
  c.range_end = end;
  c.target = CompareTarget::kValue;
  c.result = result;
  return c;
}

TxnOp txn_with(std::vector<Compare> compares) {
  TxnOp t;
  t.compares = std::move(compares);
  PutOp p;
  p.key = "result";
  p.value_slot = 0;
  t.success = {RequestOp{p}};
  return t;
}

bool succeeded(const Result<ApplyResult>& r) {
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<TxnResult>(r->result));
  return std::get<TxnResult>(r->result).succeeded;
}

}  // namespace

TEST_CASE("the leader decides value compares with etcd's byte order and all-keys rule") {
  Harness h;
  REQUIRE(h.put("a", "apple").ok());
  REQUIRE(h.put("b", "banana").ok());
  struct Case {
    Compare c;
    std::string operand;
    bool expect;
  };
  std::vector<Case> cases{
      {value_cmp("a", CompareResult::kEqual), "apple", true},
      {value_cmp("a", CompareResult::kEqual), "apples", false},
      {value_cmp("a", CompareResult::kLess), "apples", true},  // prefix sorts first
      {value_cmp("b", CompareResult::kGreater), "apple", true},
      {value_cmp("a", CompareResult::kNotEqual), "x", true},
      {value_cmp("a", CompareResult::kGreater, "c"), "aardvark", true},  // both a and b are greater
      {value_cmp("a", CompareResult::kLess, "c"), "b", false},           // banana is not < "b"
      {value_cmp("zz", CompareResult::kNotEqual), "anything", false},    // no key: false
  };
  for (const auto& tc : cases) {
    CAPTURE(tc.operand);
    Operation op{txn_with({tc.c})};
    std::vector<std::string> operands{tc.operand};
    REQUIRE(decide_value_compares(op, operands, reader_over(*h.store)).ok());
    CHECK(succeeded(h.apply(op, {"r"})) == tc.expect);
  }
}

TEST_CASE("a decision taken before a concurrent write is retried, never applied stale") {
  Harness h;
  REQUIRE(h.put("k", "old").ok());
  Operation op{txn_with({value_cmp("k", CompareResult::kEqual)})};
  std::vector<std::string> operands{"old"};
  REQUIRE(decide_value_compares(op, operands, reader_over(*h.store)).ok());
  REQUIRE(h.put("k", "new").ok());  // committed between the decision and the apply
  auto r = h.apply(op, {"r"});
  REQUIRE(r.ok());
  CHECK(std::holds_alternative<RetryNeeded>(r->result));
  CHECK(h.get("result").kvs.empty());
  // Deciding again on the current state gives the right answer.
  Operation again{txn_with({value_cmp("k", CompareResult::kEqual)})};
  REQUIRE(decide_value_compares(again, operands, reader_over(*h.store)).ok());
  CHECK_FALSE(succeeded(h.apply(again, {"r"})));
}

TEST_CASE("operands are matched to value compares depth first, nested branches included") {
  Harness h;
  REQUIRE(h.put("a", "1").ok());
  TxnOp inner = txn_with({value_cmp("a", CompareResult::kEqual)});
  TxnOp outer;
  outer.compares = {value_cmp("a", CompareResult::kEqual), Compare{}};
  outer.compares[1].key = "a";  // a version compare between them is not a value compare
  outer.failure = {RequestOp{inner}};
  Operation op{outer};
  CHECK(value_compare_count(op) == 2);
  std::vector<std::string> operands{"2", "1"};  // outer fails, inner succeeds
  REQUIRE(decide_value_compares(op, operands, reader_over(*h.store)).ok());
  auto r = h.apply(op, {"r"});
  REQUIRE(r.ok());
  const auto& txn = std::get<TxnResult>(r->result);
  CHECK_FALSE(txn.succeeded);
  CHECK(std::get<TxnResult>(txn.responses.at(0).result).succeeded);
  std::vector<std::string> wrong_count{"1"};
  CHECK_FALSE(decide_value_compares(op, wrong_count, reader_over(*h.store)).ok());
}
