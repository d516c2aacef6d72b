// The write path: validate, decide a txn's value compares on the leader (a member holding one share
// cannot), propose through the loop, wait for apply, and rebuild the values the response must carry
// (prev_kv, ranges inside a txn) from k members' shares.

#include "etsecd/mvcc/entry_codec.h"
#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/validate.h"
#include "etsecd/mvcc/value_compare.h"
#include "etsecd/proto/kv_convert.h"
#include "etsecd/server/errors.h"
#include "member_impl.h"

namespace etsecd::server {
namespace {

constexpr int kMaxGuardRetries = 8;

const char* op_name_of(const mvcc::Operation& op) {
  // Indexed like mvcc::Operation's variant: PutOp, DeleteRangeOp, TxnOp, CompactOp.
  static constexpr const char* kOpNames[] = {"put", "delete_range", "txn", "compact"};
  return kOpNames[op.op.index()];
}

}  // namespace

Status MemberImpl::decide_value_compares(mvcc::Operation& op, const std::vector<std::string>& operands,
                                         Deadline deadline) {
  // Rebuild the current values of each compared range on this (leader) member's applied state; the
  // entry then carries only the verdict and the (key, mod_revision) pairs it was reached on.
  auto reader = [&](std::string_view key,
                    std::string_view range_end) -> Result<std::vector<mvcc::ObservedValue>> {
    mvcc::RangeOp r;
    r.key = std::string(key);
    r.range_end = std::string(range_end);
    auto found = store_->range(r);
    if (!found) return found.error();
    auto values = gather(found->kvs, 0, "", store_->applied_index(), deadline);
    if (!values) return values.error();
    std::vector<mvcc::ObservedValue> out;
    out.reserve(found->kvs.size());
    for (const auto& kv : found->kvs) {
      out.push_back(mvcc::ObservedValue{mvcc::ObservedKey{kv.key, kv.mod_revision},
                                        values->at(wire::ValueRef{kv.key, kv.mod_revision})});
    }
    return out;
  };
  return mvcc::decide_value_compares(op, operands, reader);
}

Result<ValueMap> MemberImpl::gather_result_values(const mvcc::ApplyResult& result, uint64_t min_applied,
                                                  Deadline deadline) {
  std::vector<mvcc::KeyValue> kvs;
  for (const mvcc::KeyValue* kv : proto::kvs_needing_values(result)) kvs.push_back(*kv);
  return gather(kvs, 0, "", min_applied, deadline);
}

Result<WriteOutcome> MemberImpl::write(WriteRequest request, Deadline deadline) {
  const char* op_name = op_name_of(request.op);
  const auto start = std::chrono::steady_clock::now();
  auto result = write_once(std::move(request), deadline);
  if (result) observe_write(op_name, start);
  return result;
}

void MemberImpl::write_async(WriteRequest request, Deadline deadline, WriteDone done) {
  if (mvcc::value_compare_count(request.op) > 0) {
    // Deciding the compares rebuilds the compared values from k members: a blocking round trip.
    forward_batch_server_->run(
        [this, request = std::move(request), deadline, done = std::move(done)]() mutable {
          done(write(std::move(request), deadline));
        });
    return;
  }
  if (auto st = check_write(request); !st) return done(st.error());
  const char* op_name = op_name_of(request.op);
  const auto start = std::chrono::steady_clock::now();
  auto waiter = std::make_shared<WriteWaiter>();
  waiter->deadline = deadline;
  waiter->on_done = [this, op_name, start, deadline, done = std::move(done)](Result<AppliedEntry> applied) {
    if (!applied) return done(applied.error());
    if (proto::kvs_needing_values(applied->result).empty()) {
      observe_write(op_name, start);
      return done(WriteOutcome{std::move(applied->result), {}});
    }
    forward_batch_server_->run(
        [this, op_name, start, deadline, done, applied = std::move(*applied)]() mutable {
          auto values = gather_result_values(applied.result, applied.index, deadline);
          if (!values) return done(values.error());
          observe_write(op_name, start);
          done(WriteOutcome{std::move(applied.result), std::move(*values)});
        });
  };
  post(proposal_of(request, std::move(waiter)));
}

Status MemberImpl::check_write(const WriteRequest& request) const {
  if (stopping_) return mvcc::make_error(kStopped);
  if (auto st = mvcc::validate_operation(request.op, options_.limits); !st) return st;
  if (request.values.size() != mvcc::value_slot_count(request.op)) {
    return make_error("mvcc.bad_entry", "etcdserver: internal: value count does not match the operation");
  }
  const auto pub = published();
  if (!pub.is_leader) return mvcc::make_error(pub.leader == 0 ? kNoLeader : kNotLeader);
  return Status::Ok();
}

event::Propose MemberImpl::proposal_of(const WriteRequest& request, std::shared_ptr<WriteWaiter> waiter) {
  const std::string metadata = mvcc::encode_operation(request.op);
  event::Propose p;
  p.metadata.assign(metadata.begin(), metadata.end());
  p.values.reserve(request.values.size());
  for (const auto& v : request.values) p.values.emplace_back(v.begin(), v.end());
  p.waiter = std::move(waiter);
  return p;
}

void MemberImpl::observe_write(const char* op_name, std::chrono::steady_clock::time_point start) {
  if (!metrics_.observe) return;
  metrics_.observe(op_name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

Result<WriteOutcome> MemberImpl::write_once(WriteRequest request, Deadline deadline) {
  for (int attempt = 0; attempt < kMaxGuardRetries; ++attempt) {
    if (auto st = check_write(request); !st) return st.error();
    if (mvcc::value_compare_count(request.op) > 0) {
      if (auto st = decide_value_compares(request.op, request.compare_values, deadline); !st)
        return st.error();
    }
    auto waiter = std::make_shared<WriteWaiter>();
    waiter->deadline = deadline;
    auto done = waiter->done.get_future();
    post(proposal_of(request, std::move(waiter)));
    if (done.wait_until(deadline) != std::future_status::ready) return mvcc::make_error(kTimeout);
    auto applied = done.get();
    if (!applied) return applied.error();
    if (std::holds_alternative<mvcc::RetryNeeded>(applied->result.result))
      continue;  // a compared value changed
    auto values = gather_result_values(applied->result, applied->index, deadline);
    if (!values) return values.error();
    return WriteOutcome{std::move(applied->result), std::move(*values)};
  }
  return make_error("server.txn_contended",
                    "etcdserver: txn compared values kept changing; retry the request");
}

}  // namespace etsecd::server
