#include "etsecd/mvcc/value_compare.h"

#include <algorithm>

namespace etsecd::mvcc {
namespace {

// Txn is TxnOp or const TxnOp.
template <class Txn, class F>
void for_each_value_compare(Txn& txn, F&& f) {
  for (auto& c : txn.compares) {
    if (c.target == CompareTarget::kValue) f(c);
  }
  for (auto* branch : {&txn.success, &txn.failure}) {
    for (auto& op : *branch) {
      if (auto* nested = std::get_if<TxnOp>(&op.op)) for_each_value_compare(*nested, f);
    }
  }
}

bool holds(CompareResult result, std::string_view actual, std::string_view operand) {
  int cmp = actual.compare(operand);
  switch (result) {
    case CompareResult::kEqual:
      return cmp == 0;
    case CompareResult::kNotEqual:
      return cmp != 0;
    case CompareResult::kGreater:
      return cmp > 0;
    case CompareResult::kLess:
      return cmp < 0;
  }
  return false;
}

}  // namespace

size_t value_compare_count(const Operation& op) {
  size_t n = 0;
  if (const auto* txn = std::get_if<TxnOp>(&op.op)) {
    for_each_value_compare(*txn, [&](const Compare&) { ++n; });
  }
  return n;
}

Status decide_value_compares(Operation& op, std::span<const std::string> operands, const ValueReader& read) {
  if (operands.size() != value_compare_count(op)) {
    return make_error("mvcc.value_compare_operands", "operand count does not match the value compares");
  }
  auto* txn = std::get_if<TxnOp>(&op.op);
  if (txn == nullptr) return Status::Ok();
  size_t next = 0;
  Status status;
  for_each_value_compare(*txn, [&](Compare& c) {
    if (!status) return;
    const std::string& operand = operands[next++];
    auto seen = read(c.key, c.range_end);
    if (!seen) {
      status = seen.error();
      return;
    }
    c.observed.clear();
    for (const ObservedValue& v : seen.value()) c.observed.push_back(v.key);
    c.value_outcome = !seen->empty() && std::all_of(seen->begin(), seen->end(), [&](const ObservedValue& v) {
      return holds(c.result, v.value, operand);
    });
  });
  return status;
}

}  // namespace etsecd::mvcc
