#pragma once
// Between etcd's protobuf messages and etsecd's operation and result types. Values travel from the
// request into WriteRequest::values (the core splits them) and back from the member's ValueMap into
// responses; nothing here stores or logs them.

#include "etcd/api/etcdserverpb/rpc.pb.h"
#include "etsecd/mvcc/kv.h"
#include "etsecd/mvcc/operation.h"
#include "etsecd/server/member.h"

namespace etsecd::api {

mvcc::RangeOp to_range_op(const etcdserverpb::RangeRequest& req);
server::WriteRequest to_write(const etcdserverpb::PutRequest& req);
server::WriteRequest to_write(const etcdserverpb::DeleteRangeRequest& req);
server::WriteRequest to_write(const etcdserverpb::TxnRequest& req);
server::WriteRequest to_write(const etcdserverpb::CompactionRequest& req);

void fill_header(etcdserverpb::ResponseHeader* header, const server::MemberStatus& status, int64_t revision);

// Fills kvs from a store result; a kv's value comes from `values` unless the result is keys-only.
void fill_range(const mvcc::RangeResult& result, const server::ValueMap& values, etcdserverpb::RangeResponse* resp);
void fill_put(const mvcc::PutResult& result, const server::ValueMap& values, etcdserverpb::PutResponse* resp);
void fill_delete(const mvcc::DeleteRangeResult& result, const server::ValueMap& values,
                 etcdserverpb::DeleteRangeResponse* resp);
void fill_txn(const mvcc::TxnResult& result, const server::ValueMap& values, etcdserverpb::TxnResponse* resp);

}  // namespace etsecd::api
