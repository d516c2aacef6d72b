#include "etsecd/mvcc/validate.h"

#include <doctest/doctest.h>

#include "etsecd/mvcc/errors.h"

using namespace etsecd::mvcc;

namespace {

RequestOp put_op(const std::string& key) {
  PutOp p;
  p.key = key;
  p.value_slot = 0;
  return RequestOp{p};
}

std::string message_of(const etsecd::Status& s) { return s.ok() ? "" : s.error().message; }

}  // namespace

TEST_CASE("request size limit is etcd's 1.5 MiB default") {
  CHECK(check_request_size(1572864).ok());
  auto s = check_request_size(1572865);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "etcdserver: request is too large");
  CHECK(grpc_code_of(s.error()) == GrpcCode::kInvalidArgument);
}

TEST_CASE("empty keys are refused everywhere") {
  CHECK(message_of(validate_operation(Operation{PutOp{"", 0u, 0, false, false, false}})) ==
        "etcdserver: key is not provided");
  CHECK(message_of(validate_operation(Operation{DeleteRangeOp{"", "", false}})) ==
        "etcdserver: key is not provided");
  CHECK(message_of(validate_range(RangeOp{})) == "etcdserver: key is not provided");
  TxnOp t;
  t.compares.push_back(Compare{});
  CHECK(message_of(validate_operation(Operation{t})) == "etcdserver: key is not provided");
}

TEST_CASE("invalid ranges and sort options are refused") {
  RangeOp r;
  r.key = "b";
  r.range_end = "a";
  CHECK(is(validate_range(r).error(), kInvalidRange));
  r.range_end = "b";
  CHECK(is(validate_range(r).error(), kInvalidRange));
  r.range_end = std::string(1, '\0');
  CHECK(validate_range(r).ok());
  r.sort_target = static_cast<SortTarget>(9);
  CHECK(message_of(validate_range(r)) == "etcdserver: invalid sort option");
  CHECK(is(validate_operation(Operation{DeleteRangeOp{"z", "a", false}}).error(), kInvalidRange));
}

TEST_CASE("too many operations in a txn, at 128 by default") {
  TxnOp t;
  for (int i = 0; i < 128; ++i) t.success.push_back(put_op("k" + std::to_string(i)));
  CHECK(validate_operation(Operation{t}).ok());
  t.success.push_back(put_op("one-more"));
  CHECK(message_of(validate_operation(Operation{t})) == "etcdserver: too many operations in txn request");
  TxnOp c;
  for (int i = 0; i < 129; ++i) {
    Compare cmp;
    cmp.key = "k";
    c.compares.push_back(cmp);
  }
  CHECK(is(validate_operation(Operation{c}).error(), kTooManyOps));
}

TEST_CASE("duplicate keys in a txn branch follow etcd's interval rule") {
  const std::string dup = "etcdserver: duplicate key given in txn request";
  TxnOp t;
  t.success = {put_op("a"), put_op("a")};
  CHECK(message_of(validate_operation(Operation{t})) == dup);

  t.success = {put_op("a"), RequestOp{DeleteRangeOp{"a", "b", false}}};
  CHECK(message_of(validate_operation(Operation{t})) == dup);

  t.success = {RequestOp{DeleteRangeOp{"a", "c", false}}, RequestOp{DeleteRangeOp{"b", "d", false}}};
  CHECK(validate_operation(Operation{t}).ok());  // overlapping deletes are allowed

  t.success = {put_op("a")};
  t.failure = {put_op("a")};
  CHECK(validate_operation(Operation{t}).ok());  // different branches

  TxnOp nested;
  nested.success = {put_op("x")};
  nested.failure = {put_op("x")};
  t.success = {RequestOp{nested}};
  t.failure = {};
  CHECK(validate_operation(Operation{t}).ok());  // alternatives of one nested txn

  t.success = {RequestOp{nested}, put_op("x")};
  CHECK(message_of(validate_operation(Operation{t})) == dup);

  TxnOp nested_del;
  nested_del.success = {RequestOp{DeleteRangeOp{"w", "y", false}}};
  t.success = {RequestOp{nested_del}, put_op("x")};
  CHECK(message_of(validate_operation(Operation{t})) == dup);
}

TEST_CASE("put flags: ignore_value with a value, ignore_lease with a lease, and leases at all") {
  PutOp p;
  p.key = "k";
  p.value_slot = 0;
  p.ignore_value = true;
  CHECK(message_of(validate_operation(Operation{p})) == "etcdserver: value is provided");
  p.ignore_value = false;
  p.ignore_lease = true;
  p.lease = 7;
  CHECK(message_of(validate_operation(Operation{p})) == "etcdserver: lease is provided");
  p.ignore_lease = false;
  auto s = validate_operation(Operation{p});
  CHECK(message_of(s) == "etcdserver: requested lease not found");
  CHECK(grpc_code_of(s.error()) == GrpcCode::kNotFound);
}

TEST_CASE("txn nesting depth is bounded") {
  TxnOp t;
  for (int i = 0; i < 40; ++i) {
    TxnOp outer;
    outer.success.push_back(RequestOp{t});
    t = std::move(outer);
  }
  CHECK(is(validate_operation(Operation{t}).error(), kTxnTooDeep));
}

TEST_CASE("value slots are counted depth first across branches") {
  TxnOp t;
  PutOp a;
  a.key = "a";
  a.value_slot = 0;
  PutOp b;
  b.key = "b";
  b.value_slot = 2;
  TxnOp nested;
  nested.failure.push_back(RequestOp{b});
  t.success = {RequestOp{a}, RequestOp{nested}};
  CHECK(value_slot_count(Operation{t}) == 3);
  CHECK(value_slot_count(Operation{CompactOp{5, false}}) == 0);
}

TEST_CASE("every error maps to etcd's gRPC code") {
  CHECK(grpc_code_of(make_error(kCompacted)) == GrpcCode::kOutOfRange);
  CHECK(grpc_code_of(make_error(kDuplicateKey)) == GrpcCode::kInvalidArgument);
  CHECK(grpc_code_of(make_error(kStorage)) == GrpcCode::kDataLoss);
  CHECK(grpc_code_of(etsecd::make_error("something.else", "x")) == GrpcCode::kInternal);
}
