#include "convert.h"

namespace etsecd::api {
namespace {

// Assigns value slots in request order (depth first: success ops, then failure ops).
struct SlotAssigner {
  server::WriteRequest* out;
  uint32_t next() { return static_cast<uint32_t>(out->values.size()); }
};

mvcc::PutOp put_op(const etcdserverpb::PutRequest& req, SlotAssigner& slots) {
  mvcc::PutOp op;
  op.key = req.key();
  op.lease = req.lease();
  op.prev_kv = req.prev_kv();
  op.ignore_value = req.ignore_value();
  op.ignore_lease = req.ignore_lease();
  // With ignore_value a value must be empty; slotting a non-empty one lets validation refuse the put
  // with etcd's message before anything is proposed.
  if (!req.ignore_value() || !req.value().empty()) {
    op.value_slot = slots.next();
    slots.out->values.push_back(req.value());
  }
  return op;
}

mvcc::DeleteRangeOp delete_op(const etcdserverpb::DeleteRangeRequest& req) {
  mvcc::DeleteRangeOp op;
  op.key = req.key();
  op.range_end = req.range_end();
  op.prev_kv = req.prev_kv();
  return op;
}

mvcc::TxnOp txn_op(const etcdserverpb::TxnRequest& req, SlotAssigner& slots, bool top_level);

std::vector<mvcc::RequestOp> request_ops(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops,
                                         SlotAssigner& slots) {
  std::vector<mvcc::RequestOp> out;
  out.reserve(static_cast<size_t>(ops.size()));
  for (const auto& op : ops) {
    mvcc::RequestOp r;
    switch (op.request_case()) {
      case etcdserverpb::RequestOp::kRequestRange: r.op = to_range_op(op.request_range()); break;
      case etcdserverpb::RequestOp::kRequestPut: r.op = put_op(op.request_put(), slots); break;
      case etcdserverpb::RequestOp::kRequestDeleteRange: r.op = delete_op(op.request_delete_range()); break;
      case etcdserverpb::RequestOp::kRequestTxn: r.op = txn_op(op.request_txn(), slots, false); break;
      default: r.op = mvcc::RangeOp{}; break;  // an empty RequestOp reads nothing, as in etcd
    }
    out.push_back(std::move(r));
  }
  return out;
}

mvcc::TxnOp txn_op(const etcdserverpb::TxnRequest& req, SlotAssigner& slots, bool top_level) {
  mvcc::TxnOp txn;
  for (const auto& c : req.compare()) {
    mvcc::Compare cmp;
    cmp.result = static_cast<mvcc::CompareResult>(c.result());
    cmp.target = static_cast<mvcc::CompareTarget>(c.target());
    cmp.key = c.key();
    cmp.range_end = c.range_end();
    switch (c.target()) {
      case etcdserverpb::Compare::VERSION: cmp.number = c.version(); break;
      case etcdserverpb::Compare::CREATE: cmp.number = c.create_revision(); break;
      case etcdserverpb::Compare::MOD: cmp.number = c.mod_revision(); break;
      case etcdserverpb::Compare::LEASE: cmp.number = c.lease(); break;
      case etcdserverpb::Compare::VALUE:
        // Only top-level compare values are carried; the member refuses nested value compares.
        if (top_level) slots.out->compare_values.push_back(c.value());
        break;
      default: break;
    }
    txn.compares.push_back(std::move(cmp));
  }
  txn.success = request_ops(req.success(), slots);
  txn.failure = request_ops(req.failure(), slots);
  return txn;
}

void fill_kv(const mvcc::KeyValue& kv, const server::ValueMap& values, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_lease(kv.lease);
  // An encoded share is never empty, so an empty one means the result is keys-only.
  if (!kv.share.empty()) {
    auto it = values.find(wire::ValueRef{kv.key, kv.mod_revision});
    if (it != values.end()) out->set_value(it->second);
  }
}

}  // namespace

mvcc::RangeOp to_range_op(const etcdserverpb::RangeRequest& req) {
  mvcc::RangeOp op;
  op.key = req.key();
  op.range_end = req.range_end();
  op.limit = req.limit();
  op.revision = req.revision();
  op.sort_order = static_cast<mvcc::SortOrder>(req.sort_order());
  op.sort_target = static_cast<mvcc::SortTarget>(req.sort_target());
  op.keys_only = req.keys_only();
  op.count_only = req.count_only();
  op.min_mod_revision = req.min_mod_revision();
  op.max_mod_revision = req.max_mod_revision();
  op.min_create_revision = req.min_create_revision();
  op.max_create_revision = req.max_create_revision();
  return op;
}

server::WriteRequest to_write(const etcdserverpb::PutRequest& req) {
  server::WriteRequest w;
  SlotAssigner slots{&w};
  w.op.op = put_op(req, slots);
  return w;
}

server::WriteRequest to_write(const etcdserverpb::DeleteRangeRequest& req) {
  server::WriteRequest w;
  w.op.op = delete_op(req);
  return w;
}

server::WriteRequest to_write(const etcdserverpb::TxnRequest& req) {
  server::WriteRequest w;
  SlotAssigner slots{&w};
  w.op.op = txn_op(req, slots, true);
  return w;
}

server::WriteRequest to_write(const etcdserverpb::CompactionRequest& req) {
  server::WriteRequest w;
  w.op.op = mvcc::CompactOp{req.revision(), req.physical()};
  return w;
}

void fill_header(etcdserverpb::ResponseHeader* header, const server::MemberStatus& status, int64_t revision) {
  header->set_cluster_id(status.cluster_id);
  header->set_member_id(status.id);
  header->set_revision(revision);
  header->set_raft_term(status.term);
}

void fill_range(const mvcc::RangeResult& result, const server::ValueMap& values, etcdserverpb::RangeResponse* resp) {
  for (const auto& kv : result.kvs) fill_kv(kv, values, resp->add_kvs());
  resp->set_more(result.more);
  resp->set_count(result.count);
}

void fill_put(const mvcc::PutResult& result, const server::ValueMap& values, etcdserverpb::PutResponse* resp) {
  if (result.prev_kv) fill_kv(*result.prev_kv, values, resp->mutable_prev_kv());
}

void fill_delete(const mvcc::DeleteRangeResult& result, const server::ValueMap& values,
                 etcdserverpb::DeleteRangeResponse* resp) {
  resp->set_deleted(result.deleted);
  for (const auto& kv : result.prev_kvs) fill_kv(kv, values, resp->add_prev_kvs());
}

void fill_txn(const mvcc::TxnResult& result, const server::ValueMap& values, etcdserverpb::TxnResponse* resp) {
  resp->set_succeeded(result.succeeded);
  for (const auto& r : result.responses) {
    auto* op = resp->add_responses();
    if (auto* range = std::get_if<mvcc::RangeResult>(&r.result)) {
      auto* rr = op->mutable_response_range();
      rr->mutable_header();
      fill_range(*range, values, rr);
    } else if (auto* put = std::get_if<mvcc::PutResult>(&r.result)) {
      auto* pr = op->mutable_response_put();
      pr->mutable_header();
      fill_put(*put, values, pr);
    } else if (auto* del = std::get_if<mvcc::DeleteRangeResult>(&r.result)) {
      auto* dr = op->mutable_response_delete_range();
      dr->mutable_header();
      fill_delete(*del, values, dr);
    } else if (auto* txn = std::get_if<mvcc::TxnResult>(&r.result)) {
      auto* tr = op->mutable_response_txn();
      tr->mutable_header();
      fill_txn(*txn, values, tr);
    }
  }
}

}  // namespace etsecd::api
