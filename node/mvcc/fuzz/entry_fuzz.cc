// libFuzzer target: raft entry metadata from the wire. Anything that decodes must re-encode to the same
// bytes (one meaning per byte string) and must apply deterministically without crashing: twice, on two
// identical stores, with identical results and identical stored state.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "etsecd/mvcc/entry_codec.h"
#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/mvcc/validate.h"

using namespace etsecd::mvcc;

namespace {

[[noreturn]] void fail(const char* why) {
  std::fprintf(stderr, "entry_fuzz: %s\n", why);
  std::abort();
}

std::unique_ptr<Store> seeded_store(MemoryBackend** raw) {
  auto backend = std::make_unique<MemoryBackend>();
  *raw = backend.get();
  auto store = Store::open(std::move(backend));
  if (!store.ok()) fail("open");
  uint64_t index = 0;
  for (const char* key : {"a", "ab", "b", "k", "z"}) {
    PutOp p;
    p.key = key;
    p.value_slot = 0;
    std::vector<std::string> shares{std::string("share-") + key};
    if (!store.value()->apply(++index, Operation{p}, shares).ok()) fail("seed");
  }
  if (!store.value()->apply(++index, Operation{DeleteRangeOp{"b", "", false}}, {}).ok()) fail("seed");
  return std::move(store).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_operation(bytes);
  if (!decoded.ok()) return 0;
  if (encode_operation(decoded.value()) != bytes) fail("decode/encode not canonical");
  (void)validate_operation(decoded.value());

  // Shares for the slots the entry uses, capped: a missing share must be reported, not crash.
  std::vector<std::string> shares;
  size_t slots = std::min<size_t>(value_slot_count(decoded.value()), 64);
  for (size_t i = 0; i < slots; ++i) shares.push_back("s" + std::to_string(i));

  MemoryBackend* backend_a = nullptr;
  MemoryBackend* backend_b = nullptr;
  auto a = seeded_store(&backend_a);
  auto b = seeded_store(&backend_b);
  const int64_t before = a->current_revision();
  const uint64_t index = a->applied_index() + 1;
  auto ra = a->apply(index, decoded.value(), shares);
  auto rb = b->apply(index, decoded.value(), shares);
  if (ra.ok() != rb.ok()) fail("nondeterministic verdict");
  if (!ra.ok() && ra.error().code != rb.error().code) fail("nondeterministic error");
  if (a->applied_index() != index || b->applied_index() != index) fail("applied index did not advance");
  if (a->current_revision() < before || a->current_revision() > before + 1) fail("revision jumped");
  if (ra.ok() && ra.value().revision != a->current_revision()) fail("header revision");
  if (backend_a->records() != backend_b->records()) fail("stores diverged");

  RangeOp all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  auto read = a->range(all);
  if (!read.ok()) fail("read after apply");
  if (static_cast<size_t>(read.value().count) != a->key_count()) fail("count");
  return 0;
}
