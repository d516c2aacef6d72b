#include "etsecd/proto/kv_convert.h"

#include <doctest/doctest.h>
#include <grpcpp/support/status.h>

#include "etcdserverpb/rpc.pb.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/mvcc/validate.h"
#include "etsecd/mvcc/value_compare.h"

using namespace etsecd;
namespace pb = etcdserverpb;

namespace {

// Applies a proposed request to a store where each "share" is the whole value (one member, k = 1), so
// rebuilt values are just the shares. Enough to check the translation both ways.
struct OneMember {
  std::unique_ptr<mvcc::Store> store = mvcc::Store::open(std::make_unique<mvcc::MemoryBackend>()).value();
  Result<mvcc::ApplyResult> apply(const proto::ProposedRequest& p) {
    return store->apply(store->applied_index() + 1, p.op, p.values);
  }
  static std::vector<std::string> values_of(const std::vector<const mvcc::KeyValue*>& kvs) {
    std::vector<std::string> out;
    for (const auto* kv : kvs) out.push_back(kv->share);
    return out;
  }
};

pb::PutRequest put_request(const std::string& key, const std::string& value, bool prev_kv = false) {
  pb::PutRequest r;
  r.set_key(key);
  r.set_value(value);
  r.set_prev_kv(prev_kv);
  return r;
}

}  // namespace

TEST_CASE("a put becomes a value slot, and prev_kv comes back with its rebuilt value") {
  OneMember m;
  auto first = proto::from_put(put_request("k", "v1"));
  REQUIRE(first.ok());
  CHECK(first->values == std::vector<std::string>{"v1"});
  CHECK(std::get<mvcc::PutOp>(first->op.op).value_slot == 0u);
  REQUIRE(m.apply(*first).ok());

  auto second = proto::from_put(put_request("k", "v2", true));
  auto applied = m.apply(*second);
  REQUIRE(applied.ok());
  auto kvs = proto::kvs_needing_values(*applied);
  REQUIRE(kvs.size() == 1);
  pb::PutResponse resp;
  REQUIRE(proto::fill_put_response(*applied, OneMember::values_of(kvs), {7, 8, 9}, &resp).ok());
  CHECK(resp.header().revision() == 3);
  CHECK(resp.header().cluster_id() == 7);
  CHECK(resp.header().member_id() == 8);
  CHECK(resp.header().raft_term() == 9);
  CHECK(resp.prev_kv().value() == "v1");
  CHECK(resp.prev_kv().version() == 1);

  std::vector<std::string> none;
  CHECK_FALSE(proto::fill_put_response(*applied, none, {}, &resp).ok());
}

TEST_CASE("ignore_value with a value is etcd's 'value is provided'") {
  pb::PutRequest r = put_request("k", "v");
  r.set_ignore_value(true);
  auto p = proto::from_put(r);
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().message == "etcdserver: value is provided");
}

TEST_CASE("txn slots and value-compare operands are numbered depth first; responses nest") {
  OneMember m;
  REQUIRE(m.apply(*proto::from_put(put_request("a", "apple"))).ok());
  pb::TxnRequest t;
  auto* c = t.add_compare();
  c->set_key("a");
  c->set_target(pb::Compare::VALUE);
  c->set_result(pb::Compare::EQUAL);
  c->set_value("apple");
  *t.add_success()->mutable_request_put() = put_request("a", "avocado", true);
  auto* nested = t.add_success()->mutable_request_txn();
  auto* nc = nested->add_compare();
  nc->set_key("a");
  nc->set_target(pb::Compare::VERSION);
  nc->set_version(1);
  *nested->add_success()->mutable_request_put() = put_request("b", "banana");
  auto* get = nested->add_success()->mutable_request_range();
  get->set_key("a");
  *t.add_failure()->mutable_request_put() = put_request("c", "cherry");

  auto p = proto::from_txn(t);
  REQUIRE(p.ok());
  CHECK(p->values == std::vector<std::string>{"avocado", "banana", "cherry"});
  CHECK(p->compare_operands == std::vector<std::string>{"apple"});
  REQUIRE(mvcc::validate_operation(p->op).ok());
  auto reader = [&](std::string_view key, std::string_view end) -> Result<std::vector<mvcc::ObservedValue>> {
    mvcc::RangeOp op;
    op.key = std::string(key);
    op.range_end = std::string(end);
    auto r = m.store->range(op);
    std::vector<mvcc::ObservedValue> out;
    for (const auto& kv : r->kvs) out.push_back({{kv.key, kv.mod_revision}, kv.share});
    return out;
  };
  REQUIRE(mvcc::decide_value_compares(p->op, p->compare_operands, reader).ok());
  auto applied = m.apply(*p);
  REQUIRE(applied.ok());
  auto kvs = proto::kvs_needing_values(*applied);
  pb::TxnResponse resp;
  REQUIRE(proto::fill_txn_response(*applied, OneMember::values_of(kvs), {}, &resp).ok());
  CHECK(resp.succeeded());
  CHECK(resp.header().revision() == 3);
  REQUIRE(resp.responses_size() == 2);
  CHECK(resp.responses(0).response_put().prev_kv().value() == "apple");
  const auto& inner = resp.responses(1).response_txn();
  CHECK(inner.succeeded());  // nested compares see the state before the txn: version 1
  REQUIRE(inner.responses_size() == 2);
  // ...while reads inside the txn see its own earlier writes.
  CHECK(inner.responses(1).response_range().kvs(0).value() == "avocado");
}

TEST_CASE("ranges translate both ways, keys_only carries no values") {
  OneMember m;
  REQUIRE(m.apply(*proto::from_put(put_request("p/1", "one"))).ok());
  REQUIRE(m.apply(*proto::from_put(put_request("p/2", "two"))).ok());
  pb::RangeRequest r;
  r.set_key("p/");
  r.set_range_end("p0");
  r.set_limit(1);
  r.set_sort_order(pb::RangeRequest::DESCEND);
  auto op = proto::to_range_op(r);
  CHECK(op.sort_order == mvcc::SortOrder::kDescend);
  auto result = m.store->range(op);
  REQUIRE(result.ok());
  pb::RangeResponse resp;
  REQUIRE(
      proto::fill_range_response(*result, OneMember::values_of(proto::kvs_needing_values(*result)), {}, &resp)
          .ok());
  REQUIRE(resp.kvs_size() == 1);
  CHECK(resp.kvs(0).key() == "p/2");
  CHECK(resp.kvs(0).value() == "two");
  CHECK(resp.more());
  CHECK(resp.count() == 2);

  r.set_keys_only(true);
  auto keys = m.store->range(proto::to_range_op(r));
  CHECK(proto::kvs_needing_values(*keys).empty());
  pb::RangeResponse keys_resp;
  REQUIRE(proto::fill_range_response(*keys, {}, {}, &keys_resp).ok());
  CHECK(keys_resp.kvs(0).value().empty());
}

TEST_CASE("errors become etcd's gRPC statuses") {
  grpc::Status s = proto::to_grpc_status(mvcc::make_error(mvcc::kCompacted));
  CHECK(s.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK(s.error_message() == "etcdserver: mvcc: required revision has been compacted");
  CHECK(proto::to_grpc_status(mvcc::make_error(mvcc::kRequestTooLarge)).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}
