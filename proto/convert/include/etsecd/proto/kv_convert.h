#pragma once
// Translation between etcd's wire messages (etcdserverpb) and the MVCC layer's plain types, for the gRPC
// KV adapter. Only forward declarations of generated types here: include this from the adapter's .cc.
//
// Write path:  request -> ProposedRequest (plaintext Operation + secrets) -> validate_operation ->
//              decide_value_compares(op, compare_operands, ...) on the leader -> split `values` into
//              shares, one per slot -> raft -> Store::apply -> fill_*_response with rebuilt values.
// Read path:   RangeRequest -> to_range_op -> Store::range -> gather k shares per KeyValue ->
//              (finish_value_sort if value_sort_pending) -> fill_range_response.
// The values passed to fill_* are, in order, those of kvs_needing_values(result).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/mvcc/kv.h"
#include "etsecd/mvcc/operation.h"

namespace etcdserverpb {
class RangeRequest;
class RangeResponse;
class PutRequest;
class PutResponse;
class DeleteRangeRequest;
class DeleteRangeResponse;
class TxnRequest;
class TxnResponse;
class CompactionRequest;
class CompactionResponse;
class ResponseHeader;
}  // namespace etcdserverpb

namespace grpc {
class Status;
}  // namespace grpc

namespace etsecd::proto {

// A client write split into the entry's plaintext part and what the leader must keep secret.
struct ProposedRequest {
  mvcc::Operation op;
  std::vector<std::string> values;            // by value slot: the leader splits each into shares
  std::vector<std::string> compare_operands;  // for decide_value_compares; never proposed
};

mvcc::RangeOp to_range_op(const etcdserverpb::RangeRequest& request);
// Errors: kValueProvided (ignore_value with a value). Other checks: mvcc::validate_operation.
Result<ProposedRequest> from_put(const etcdserverpb::PutRequest& request);
ProposedRequest from_delete_range(const etcdserverpb::DeleteRangeRequest& request);
Result<ProposedRequest> from_txn(const etcdserverpb::TxnRequest& request);
ProposedRequest from_compaction(const etcdserverpb::CompactionRequest& request);

// The KeyValues whose values the serving member must rebuild, in the order fill_* consumes values.
std::vector<const mvcc::KeyValue*> kvs_needing_values(const mvcc::RangeResult& result);
std::vector<const mvcc::KeyValue*> kvs_needing_values(const mvcc::ApplyResult& result);

struct HeaderFields {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 0;
};

// Errors: convert.value_count (values do not match kvs_needing_values), convert.wrong_result (the apply
// result is of another kind, e.g. RetryNeeded, which the caller must handle before answering).
Status fill_range_response(const mvcc::RangeResult& result, std::span<const std::string> values,
                           const HeaderFields& header, etcdserverpb::RangeResponse* out);
Status fill_put_response(const mvcc::ApplyResult& result, std::span<const std::string> values,
                         const HeaderFields& header, etcdserverpb::PutResponse* out);
Status fill_delete_range_response(const mvcc::ApplyResult& result, std::span<const std::string> values,
                                  const HeaderFields& header, etcdserverpb::DeleteRangeResponse* out);
Status fill_txn_response(const mvcc::ApplyResult& result, std::span<const std::string> values,
                         const HeaderFields& header, etcdserverpb::TxnResponse* out);
Status fill_compaction_response(const mvcc::ApplyResult& result, const HeaderFields& header,
                                etcdserverpb::CompactionResponse* out);

// etcd's status for an error from the MVCC layer (code from mvcc::grpc_code_of, etcd's message).
grpc::Status to_grpc_status(const Error& error);

}  // namespace etsecd::proto
