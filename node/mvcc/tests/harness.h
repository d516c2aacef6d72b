#pragma once
// A store over a MemoryBackend with helpers that apply operations at consecutive raft indexes.

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/mvcc/store.h"

namespace etsecd::mvcc::testing {

inline std::unique_ptr<Store> open_memory_store(MemoryBackend** raw = nullptr) {
  auto backend = std::make_unique<MemoryBackend>();
  if (raw != nullptr) *raw = backend.get();
  auto store = Store::open(std::move(backend));
  REQUIRE(store.ok());
  return std::move(store).value();
}

struct Harness {
  MemoryBackend* backend = nullptr;
  std::unique_ptr<Store> store = open_memory_store(&backend);

  Result<ApplyResult> apply(const Operation& op, const std::vector<std::string>& shares = {}) {
    return store->apply(store->applied_index() + 1, op, shares);
  }
  Result<ApplyResult> put(const std::string& key, const std::string& share, bool prev_kv = false) {
    PutOp p;
    p.key = key;
    p.value_slot = 0;
    p.prev_kv = prev_kv;
    return apply(Operation{p}, {share});
  }
  Result<ApplyResult> del(const std::string& key, const std::string& end = "", bool prev_kv = false) {
    return apply(Operation{DeleteRangeOp{key, end, prev_kv}});
  }
  Result<ApplyResult> compact(int64_t rev) { return apply(Operation{CompactOp{rev, false}}); }
  RangeResult get(const std::string& key, const std::string& end = "", int64_t rev = 0) {
    RangeOp op;
    op.key = key;
    op.range_end = end;
    op.revision = rev;
    auto r = store->range(op);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return std::move(r).value();
  }
};

inline std::vector<std::string> keys_of(const RangeResult& r) {
  std::vector<std::string> keys;
  for (const auto& kv : r.kvs) keys.push_back(kv.key);
  return keys;
}

}  // namespace etsecd::mvcc::testing
