#include "etsecd/proto/kv_convert.h"

#include <grpcpp/support/status.h>

#include "etcdserverpb/rpc.pb.h"
#include "etsecd/mvcc/errors.h"
#include "mvccpb/kv.pb.h"

namespace etsecd::proto {
namespace {

namespace pb = etcdserverpb;

// Hands out the rebuilt values in kvs_needing_values order.
class ValueCursor {
 public:
  explicit ValueCursor(std::span<const std::string> values) : values_(values) {}
  const std::string* next() { return next_ < values_.size() ? &values_[next_++] : nullptr; }
  bool exhausted() const { return next_ == values_.size(); }

 private:
  std::span<const std::string> values_;
  size_t next_ = 0;
};

Error value_count_error() {
  return make_error("convert.value_count", "rebuilt values do not match the result's key-values");
}

Status fill_kv(const mvcc::KeyValue& kv, bool with_value, ValueCursor& values, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_lease(kv.lease);
  if (with_value) {
    const std::string* value = values.next();
    if (value == nullptr) return value_count_error();
    out->set_value(*value);
  }
  return Status::Ok();
}

void fill_header(const HeaderFields& fields, int64_t revision, pb::ResponseHeader* out) {
  out->set_cluster_id(fields.cluster_id);
  out->set_member_id(fields.member_id);
  out->set_raft_term(fields.raft_term);
  out->set_revision(revision);
}

mvcc::RangeOp range_op(const pb::RangeRequest& r) {
  mvcc::RangeOp op;
  op.key = r.key();
  op.range_end = r.range_end();
  op.limit = r.limit();
  op.revision = r.revision();
  op.sort_order = static_cast<mvcc::SortOrder>(r.sort_order());
  op.sort_target = static_cast<mvcc::SortTarget>(r.sort_target());
  op.keys_only = r.keys_only();
  op.count_only = r.count_only();
  op.min_mod_revision = r.min_mod_revision();
  op.max_mod_revision = r.max_mod_revision();
  op.min_create_revision = r.min_create_revision();
  op.max_create_revision = r.max_create_revision();
  return op;
}

Result<mvcc::PutOp> put_op(const pb::PutRequest& r, std::vector<std::string>& values) {
  if (r.ignore_value() && !r.value().empty()) return mvcc::make_error(mvcc::kValueProvided);
  mvcc::PutOp op;
  op.key = r.key();
  op.lease = r.lease();
  op.prev_kv = r.prev_kv();
  op.ignore_value = r.ignore_value();
  op.ignore_lease = r.ignore_lease();
  if (!r.ignore_value()) {
    op.value_slot = static_cast<uint32_t>(values.size());
    values.push_back(r.value());
  }
  return op;
}

mvcc::DeleteRangeOp delete_op(const pb::DeleteRangeRequest& r) {
  return mvcc::DeleteRangeOp{r.key(), r.range_end(), r.prev_kv()};
}

mvcc::Compare compare(const pb::Compare& c, std::vector<std::string>& operands) {
  mvcc::Compare out;
  out.result = static_cast<mvcc::CompareResult>(c.result());
  out.target = static_cast<mvcc::CompareTarget>(c.target());
  out.key = c.key();
  out.range_end = c.range_end();
  switch (c.target()) {
    case pb::Compare::VERSION:
      out.number = c.version();
      break;
    case pb::Compare::CREATE:
      out.number = c.create_revision();
      break;
    case pb::Compare::MOD:
      out.number = c.mod_revision();
      break;
    case pb::Compare::LEASE:
      out.number = c.lease();
      break;
    case pb::Compare::VALUE:
      operands.push_back(c.value());
      break;
    default:
      break;  // an unknown target is refused by validate_operation
  }
  return out;
}

// Slots and operands are numbered in the order decide_value_compares and apply expect: a txn's compares,
// then its success ops, then its failure ops, depth first.
Result<mvcc::TxnOp> txn_op(const pb::TxnRequest& r, ProposedRequest& proposed) {
  mvcc::TxnOp txn;
  for (const auto& c : r.compare()) txn.compares.push_back(compare(c, proposed.compare_operands));
  for (auto [in, out] : {std::pair{&r.success(), &txn.success}, std::pair{&r.failure(), &txn.failure}}) {
    for (const pb::RequestOp& op : *in) {
      mvcc::RequestOp converted;
      switch (op.request_case()) {
        case pb::RequestOp::kRequestRange:
          converted.op = range_op(op.request_range());
          break;
        case pb::RequestOp::kRequestPut: {
          auto put = put_op(op.request_put(), proposed.values);
          if (!put) return put.error();
          converted.op = std::move(put.value());
          break;
        }
        case pb::RequestOp::kRequestDeleteRange:
          converted.op = delete_op(op.request_delete_range());
          break;
        case pb::RequestOp::kRequestTxn: {
          auto nested = txn_op(op.request_txn(), proposed);
          if (!nested) return nested.error();
          converted.op = std::move(nested.value());
          break;
        }
        default:
          // An empty RequestOp: kept as a range with no key, which validate_operation refuses.
          break;
      }
      out->push_back(std::move(converted));
    }
  }
  return txn;
}

void collect(const mvcc::RangeResult& r, std::vector<const mvcc::KeyValue*>& out) {
  if (r.keys_only || r.value_sort_pending) return;
  for (const auto& kv : r.kvs) out.push_back(&kv);
}

void collect(const mvcc::PutResult& r, std::vector<const mvcc::KeyValue*>& out) {
  if (r.prev_kv) out.push_back(&*r.prev_kv);
}

void collect(const mvcc::DeleteRangeResult& r, std::vector<const mvcc::KeyValue*>& out) {
  for (const auto& kv : r.prev_kvs) out.push_back(&kv);
}

void collect(const mvcc::TxnResult& r, std::vector<const mvcc::KeyValue*>& out);

void collect(const mvcc::OpResult& r, std::vector<const mvcc::KeyValue*>& out) {
  std::visit([&](const auto& o) { collect(o, out); }, r.result);
}

void collect(const mvcc::TxnResult& r, std::vector<const mvcc::KeyValue*>& out) {
  for (const auto& op : r.responses) collect(op, out);
}

Status range_response(const mvcc::RangeResult& r, ValueCursor& values, const HeaderFields& header,
                      pb::RangeResponse* out) {
  if (r.value_sort_pending) return make_error("convert.wrong_result", "value sort not finished");
  fill_header(header, r.revision, out->mutable_header());
  out->set_more(r.more);
  out->set_count(r.count);
  for (const auto& kv : r.kvs) {
    if (Status s = fill_kv(kv, !r.keys_only, values, out->add_kvs()); !s) return s;
  }
  return Status::Ok();
}

Status put_response(const mvcc::PutResult& r, int64_t revision, ValueCursor& values,
                    const HeaderFields& header, pb::PutResponse* out) {
  fill_header(header, revision, out->mutable_header());
  if (r.prev_kv) return fill_kv(*r.prev_kv, true, values, out->mutable_prev_kv());
  return Status::Ok();
}

Status delete_response(const mvcc::DeleteRangeResult& r, int64_t revision, ValueCursor& values,
                       const HeaderFields& header, pb::DeleteRangeResponse* out) {
  fill_header(header, revision, out->mutable_header());
  out->set_deleted(r.deleted);
  for (const auto& kv : r.prev_kvs) {
    if (Status s = fill_kv(kv, true, values, out->add_prev_kvs()); !s) return s;
  }
  return Status::Ok();
}

Status txn_response(const mvcc::TxnResult& r, int64_t revision, ValueCursor& values,
                    const HeaderFields& header, pb::TxnResponse* out) {
  fill_header(header, revision, out->mutable_header());
  out->set_succeeded(r.succeeded);
  for (const auto& op : r.responses) {
    pb::ResponseOp* resp = out->add_responses();
    Status s = std::visit(
        [&](const auto& o) -> Status {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, mvcc::RangeResult>) {
            return range_response(o, values, header, resp->mutable_response_range());
          } else if constexpr (std::is_same_v<T, mvcc::PutResult>) {
            return put_response(o, revision, values, header, resp->mutable_response_put());
          } else if constexpr (std::is_same_v<T, mvcc::DeleteRangeResult>) {
            return delete_response(o, revision, values, header, resp->mutable_response_delete_range());
          } else {
            return txn_response(o, revision, values, header, resp->mutable_response_txn());
          }
        },
        op.result);
    if (!s) return s;
  }
  return Status::Ok();
}

template <class R>
const R* result_as(const mvcc::ApplyResult& result) {
  return std::get_if<R>(&result.result);
}

Status finish(Status s, const ValueCursor& values) {
  if (!s) return s;
  if (!values.exhausted()) return value_count_error();
  return Status::Ok();
}

Error wrong_result() { return make_error("convert.wrong_result", "apply result does not match the request"); }

}  // namespace

mvcc::RangeOp to_range_op(const etcdserverpb::RangeRequest& request) { return range_op(request); }

Result<ProposedRequest> from_put(const etcdserverpb::PutRequest& request) {
  ProposedRequest proposed;
  auto op = put_op(request, proposed.values);
  if (!op) return op.error();
  proposed.op.op = std::move(op.value());
  return proposed;
}

ProposedRequest from_delete_range(const etcdserverpb::DeleteRangeRequest& request) {
  ProposedRequest proposed;
  proposed.op.op = delete_op(request);
  return proposed;
}

Result<ProposedRequest> from_txn(const etcdserverpb::TxnRequest& request) {
  ProposedRequest proposed;
  auto txn = txn_op(request, proposed);
  if (!txn) return txn.error();
  proposed.op.op = std::move(txn.value());
  return proposed;
}

ProposedRequest from_compaction(const etcdserverpb::CompactionRequest& request) {
  ProposedRequest proposed;
  proposed.op.op = mvcc::CompactOp{request.revision(), request.physical()};
  return proposed;
}

std::vector<const mvcc::KeyValue*> kvs_needing_values(const mvcc::RangeResult& result) {
  std::vector<const mvcc::KeyValue*> out;
  collect(result, out);
  return out;
}

std::vector<const mvcc::KeyValue*> kvs_needing_values(const mvcc::ApplyResult& result) {
  std::vector<const mvcc::KeyValue*> out;
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, mvcc::PutResult> || std::is_same_v<T, mvcc::DeleteRangeResult> ||
                      std::is_same_v<T, mvcc::TxnResult>) {
          collect(o, out);  // pointers into `result` itself: never collect from a copy
        }
      },
      result.result);
  return out;
}

Status fill_range_response(const mvcc::RangeResult& result, std::span<const std::string> values,
                           const HeaderFields& header, etcdserverpb::RangeResponse* out) {
  ValueCursor cursor(values);
  return finish(range_response(result, cursor, header, out), cursor);
}

Status fill_put_response(const mvcc::ApplyResult& result, std::span<const std::string> values,
                         const HeaderFields& header, etcdserverpb::PutResponse* out) {
  const auto* put = result_as<mvcc::PutResult>(result);
  if (put == nullptr) return wrong_result();
  ValueCursor cursor(values);
  return finish(put_response(*put, result.revision, cursor, header, out), cursor);
}

Status fill_delete_range_response(const mvcc::ApplyResult& result, std::span<const std::string> values,
                                  const HeaderFields& header, etcdserverpb::DeleteRangeResponse* out) {
  const auto* del = result_as<mvcc::DeleteRangeResult>(result);
  if (del == nullptr) return wrong_result();
  ValueCursor cursor(values);
  return finish(delete_response(*del, result.revision, cursor, header, out), cursor);
}

Status fill_txn_response(const mvcc::ApplyResult& result, std::span<const std::string> values,
                         const HeaderFields& header, etcdserverpb::TxnResponse* out) {
  const auto* txn = result_as<mvcc::TxnResult>(result);
  if (txn == nullptr) return wrong_result();
  ValueCursor cursor(values);
  return finish(txn_response(*txn, result.revision, cursor, header, out), cursor);
}

Status fill_compaction_response(const mvcc::ApplyResult& result, const HeaderFields& header,
                                etcdserverpb::CompactionResponse* out) {
  if (result_as<mvcc::CompactResult>(result) == nullptr) return wrong_result();
  fill_header(header, result.revision, out->mutable_header());
  return Status::Ok();
}

grpc::Status to_grpc_status(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(mvcc::grpc_code_of(error)), error.message);
}

}  // namespace etsecd::proto
