// The write path: validate, evaluate a txn's value compares on the leader (a member holding one share
// cannot), propose through the loop, wait for apply, and rebuild the values the response must carry
// (prev_kv, ranges inside a txn) from k members' shares.

#include "etsecd/mvcc/entry_codec.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/validate.h"
#include "etsecd/server/errors.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

constexpr int kMaxGuardRetries = 8;

bool compare_holds(mvcc::CompareResult want, const std::string& actual, const std::string& expected) {
  const int c = actual.compare(expected);
  switch (want) {
    case mvcc::CompareResult::kEqual: return c == 0;
    case mvcc::CompareResult::kGreater: return c > 0;
    case mvcc::CompareResult::kLess: return c < 0;
    case mvcc::CompareResult::kNotEqual: return c != 0;
  }
  return false;
}

void collect_kvs(const mvcc::TxnResult& txn, std::vector<mvcc::KeyValue>& out);

void collect_kvs(const mvcc::OpResult& r, std::vector<mvcc::KeyValue>& out) {
  if (auto* range = std::get_if<mvcc::RangeResult>(&r.result)) {
    for (const auto& kv : range->kvs) {
      if (!kv.share.empty()) out.push_back(kv);
    }
  } else if (auto* put = std::get_if<mvcc::PutResult>(&r.result)) {
    if (put->prev_kv && !put->prev_kv->share.empty()) out.push_back(*put->prev_kv);
  } else if (auto* del = std::get_if<mvcc::DeleteRangeResult>(&r.result)) {
    for (const auto& kv : del->prev_kvs) {
      if (!kv.share.empty()) out.push_back(kv);
    }
  } else if (auto* txn = std::get_if<mvcc::TxnResult>(&r.result)) {
    collect_kvs(*txn, out);
  }
}

void collect_kvs(const mvcc::TxnResult& txn, std::vector<mvcc::KeyValue>& out) {
  for (const auto& r : txn.responses) collect_kvs(r, out);
}

bool has_value_compare(const std::vector<mvcc::RequestOp>& ops);

bool has_value_compare(const mvcc::TxnOp& txn) {
  for (const auto& c : txn.compares) {
    if (c.target == mvcc::CompareTarget::kValue) return true;
  }
  return has_value_compare(txn.success) || has_value_compare(txn.failure);
}

bool has_value_compare(const std::vector<mvcc::RequestOp>& ops) {
  for (const auto& op : ops) {
    if (auto* t = std::get_if<mvcc::TxnOp>(&op.op); t && has_value_compare(*t)) return true;
  }
  return false;
}

}  // namespace

Status MemberImpl::evaluate_value_compares(mvcc::TxnOp& txn, const std::vector<std::string>& compare_values,
                                           Deadline deadline) {
  if (has_value_compare(txn.success) || has_value_compare(txn.failure)) {
    return make_error("mvcc.invalid_compare", "etcdserver: value compares inside nested txns are not supported");
  }
  size_t next_value = 0;
  for (auto& c : txn.compares) {
    if (c.target != mvcc::CompareTarget::kValue) continue;
    if (next_value >= compare_values.size()) {
      return make_error("mvcc.invalid_compare", "etcdserver: internal: value compare without a value");
    }
    const std::string& expected = compare_values[next_value++];
    mvcc::RangeOp r;
    r.key = c.key;
    r.range_end = c.range_end;
    auto found = store_->range(r);
    if (!found) return found.error();
    auto values = gather(found->kvs, 0, "", store_->applied_index(), deadline);
    if (!values) return values.error();
    // etcd: a value compare on a missing key is false; on a range it must hold for every key.
    bool holds = !found->kvs.empty();
    c.observed.clear();
    for (const auto& kv : found->kvs) {
      c.observed.push_back(mvcc::ObservedKey{kv.key, kv.mod_revision});
      const auto& v = values->at(wire::ValueRef{kv.key, kv.mod_revision});
      holds = holds && compare_holds(c.result, v, expected);
    }
    c.value_outcome = holds;
  }
  return Status::Ok();
}

Result<ValueMap> MemberImpl::gather_result_values(const mvcc::ApplyResult& result, uint64_t min_applied,
                                                  Deadline deadline) {
  std::vector<mvcc::KeyValue> kvs;
  if (auto* put = std::get_if<mvcc::PutResult>(&result.result)) {
    if (put->prev_kv && !put->prev_kv->share.empty()) kvs.push_back(*put->prev_kv);
  } else if (auto* del = std::get_if<mvcc::DeleteRangeResult>(&result.result)) {
    for (const auto& kv : del->prev_kvs) {
      if (!kv.share.empty()) kvs.push_back(kv);
    }
  } else if (auto* txn = std::get_if<mvcc::TxnResult>(&result.result)) {
    collect_kvs(*txn, kvs);
  }
  return gather(kvs, 0, "", min_applied, deadline);
}

Result<WriteOutcome> MemberImpl::write(WriteRequest request, Deadline deadline) {
  if (stopping_) return mvcc::make_error(kStopped);
  if (auto st = mvcc::validate_operation(request.op, options_.limits); !st) return st.error();
  if (request.values.size() != mvcc::value_slot_count(request.op)) {
    return make_error("mvcc.bad_entry", "etcdserver: internal: value count does not match the operation");
  }
  for (int attempt = 0; attempt < kMaxGuardRetries; ++attempt) {
    const auto pub = published();
    if (!pub.is_leader) return mvcc::make_error(pub.leader == 0 ? kNoLeader : kNotLeader);
    if (auto* txn = std::get_if<mvcc::TxnOp>(&request.op.op)) {
      if (auto st = evaluate_value_compares(*txn, request.compare_values, deadline); !st) return st.error();
    }
    auto waiter = std::make_shared<WriteWaiter>();
    waiter->deadline = deadline;
    auto done = waiter->done.get_future();
    const std::string metadata = mvcc::encode_operation(request.op);
    event::Propose p;
    p.metadata.assign(metadata.begin(), metadata.end());
    p.values.reserve(request.values.size());
    for (const auto& v : request.values) p.values.emplace_back(v.begin(), v.end());
    p.waiter = std::move(waiter);
    post(std::move(p));
    if (done.wait_until(deadline) != std::future_status::ready) return mvcc::make_error(kTimeout);
    auto applied = done.get();
    if (!applied) return applied.error();
    if (std::holds_alternative<mvcc::RetryNeeded>(applied->result.result)) continue;  // a compared value changed
    auto values = gather_result_values(applied->result, applied->index, deadline);
    if (!values) return values.error();
    return WriteOutcome{std::move(applied->result), std::move(*values)};
  }
  return make_error("server.txn_contended", "etcdserver: txn compared values kept changing; retry the request");
}

}  // namespace etsecd::server
