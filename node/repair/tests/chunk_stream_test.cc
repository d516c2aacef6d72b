// The whole repair loop over real Store objects: export bounded chunks from one member, gather k-1 other
// members' shares of the same records, rebuild at the new member's x, install chunk by chunk. Checks the
// chunk bounds (the memory bound), the result, and an interrupted install resuming after its cursor.

#include <doctest/doctest.h>

#include "etsecd/mvcc/errors.h"
#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/mvcc/store.h"
#include "fixture.h"

using namespace etsecd;
using namespace etsecd::repair;
using etsecd::repair::testing::all_records;
using etsecd::repair::testing::Fixture;
using etsecd::repair::testing::store_of;

namespace {

std::unique_ptr<mvcc::Store> make_store(mvcc::MemoryBackend** raw = nullptr) {
  auto backend = std::make_unique<mvcc::MemoryBackend>();
  if (raw != nullptr) *raw = backend.get();
  auto store = mvcc::Store::open(std::move(backend));
  REQUIRE(store.ok());
  return std::move(store).value();
}

struct Streamed {
  size_t chunks = 0;
  size_t max_chunk_records = 0;
  uint64_t max_chunk_share_bytes = 0;
};

// Streams from `source` (x=1) with holders 2..k into `target` at x, stopping after `stop_after` chunks.
Streamed stream(const mvcc::Store& source, const std::vector<std::pair<uint8_t, const mvcc::Store*>>& holders,
                mvcc::Store& target, uint8_t x, size_t max_records, uint64_t max_bytes,
                size_t stop_after = SIZE_MAX) {
  Streamed s;
  const int64_t at = source.snapshot_point().current_revision;
  std::optional<mvcc::RecordKey> after;
  if (auto st = target.install_state(); st.active && st.started) after = st.cursor;
  while (s.chunks < stop_after) {
    auto chunk = source.export_chunk(at, after, max_records, max_bytes);
    REQUIRE(chunk.ok());
    if (chunk->records.empty()) break;
    std::vector<mvcc::RecordKey> keys;
    uint64_t share_bytes = 0;
    for (const auto& [k, r] : chunk->records) {
      keys.push_back(k);
      share_bytes += r.share.size();
    }
    std::vector<HolderShares> hs;
    for (const auto& [hx, store] : holders) {
      auto shares = store->shares_of(keys);
      REQUIRE(shares.ok());
      hs.push_back(HolderShares{hx, std::move(*shares)});
    }
    auto rebuilt = rebuild_chunk(chunk->records, 1, hs, 3, x, source.compact_revision());
    REQUIRE_MESSAGE(rebuilt.ok(), (rebuilt.ok() ? "" : rebuilt.error().message));
    REQUIRE(target.install_chunk(*rebuilt).ok());
    ++s.chunks;
    s.max_chunk_records = std::max(s.max_chunk_records, chunk->records.size());
    s.max_chunk_share_bytes = std::max(s.max_chunk_share_bytes, share_bytes);
    after = chunk->records.back().first;
    if (chunk->done) break;
  }
  return s;
}

}  // namespace

TEST_CASE("a new member's records come out exactly as if it had been there all along") {
  auto f = Fixture::make(300, 5, 200, 42);
  auto s1 = store_of(f, 1);
  auto s2 = store_of(f, 2);
  auto s3 = store_of(f, 3);
  auto target = make_store();
  REQUIRE(target->begin_install(77, s1->snapshot_point()).ok());
  auto streamed = stream(*s1, {{2, s2.get()}, {3, s3.get()}}, *target, 5, 64, 1 << 20);
  REQUIRE(target->finish_install().ok());
  CHECK(all_records(*target) == f.by_x[5]);
  CHECK(target->snapshot_point() == s1->snapshot_point());
  CHECK(streamed.chunks == (f.by_x[5].size() + 63) / 64);
  CHECK(streamed.max_chunk_records <= 64);
}

TEST_CASE("chunks respect the byte bound (the memory bound of a repair)") {
  auto f = Fixture::make(100, 2, 4000, 5);
  auto s1 = store_of(f, 1);
  // Each put share is ~4 KiB; a 16 KiB bound allows at most 16 KiB plus one record's worth.
  const uint64_t bound = 16 << 10;
  std::optional<mvcc::RecordKey> after;
  size_t total = 0;
  for (;;) {
    auto chunk = s1->export_chunk(s1->snapshot_point().current_revision, after, 1000, bound);
    REQUIRE(chunk.ok());
    uint64_t bytes = 0;
    for (const auto& [k, r] : chunk->records) bytes += r.share.size();
    CHECK(bytes <= bound + 4100);
    CHECK(!chunk->records.empty());
    total += chunk->records.size();
    after = chunk->records.back().first;
    if (chunk->done) break;
  }
  CHECK(total == f.by_x[1].size());
}

TEST_CASE("an export is a consistent snapshot while writes continue above it") {
  auto f = Fixture::make(20, 2, 50, 9);
  auto s1 = store_of(f, 1);
  const int64_t at = s1->snapshot_point().current_revision;
  // A later write at a higher revision does not show up in an export at `at`.
  mvcc::PutOp put;
  put.key = "zzz-later";
  put.value_slot = 0;
  REQUIRE(s1->apply(f.point.applied_index + 1, mvcc::Operation{put}, std::vector<std::string>{"share"}).ok());
  auto chunk = s1->export_chunk(at, std::nullopt, 100000, 1 << 30);
  REQUIRE(chunk.ok());
  CHECK(chunk->records == f.by_x[1]);
  CHECK(s1->export_chunk(at + 5, std::nullopt, 10, 1 << 20).error().code == "mvcc.future_revision");
}

TEST_CASE("an interrupted install resumes after its cursor; the store serves nothing until it finishes") {
  auto f = Fixture::make(200, 3, 64, 13);
  auto s1 = store_of(f, 1);
  auto s2 = store_of(f, 2);
  auto s3 = store_of(f, 3);
  auto target = make_store();
  REQUIRE(target->begin_install(9, s1->snapshot_point()).ok());
  stream(*s1, {{2, s2.get()}, {3, s3.get()}}, *target, 4, 50, 1 << 20, 3);
  auto st = target->install_state();
  CHECK(st.active);
  CHECK(st.source == 9);
  CHECK(st.started);
  CHECK(st.cursor == f.by_x[4][149].first);

  mvcc::RangeOp range;
  range.key = "key/";
  CHECK(target->range(range).error().code == "mvcc.repairing");
  CHECK(target->apply_noop(1).error().code == "mvcc.repairing");
  // A chunk that does not follow the cursor is refused and changes nothing.
  RecordList replay(f.by_x[4].begin(), f.by_x[4].begin() + 10);
  CHECK(target->install_chunk(replay).error().code == "mvcc.corrupt");
  CHECK(target->install_state().cursor == st.cursor);

  stream(*s1, {{2, s2.get()}, {3, s3.get()}}, *target, 4, 50, 1 << 20);
  REQUIRE(target->finish_install().ok());
  CHECK(all_records(*target) == f.by_x[4]);
  CHECK_FALSE(target->install_state().active);
  CHECK(target->finish_install().error().code == "mvcc.no_install");
}

TEST_CASE("install refuses records outside the snapshot and shares that do not match their kind") {
  auto f = Fixture::make(3, 1, 16, 1);
  auto target = make_store();
  CHECK(target->install_chunk(f.by_x[1]).error().code == "mvcc.no_install");
  REQUIRE(target->begin_install(1, mvcc::SnapshotPoint{5, 2, -1}).ok());
  CHECK(target->install_chunk(f.by_x[1]).error().code == "mvcc.corrupt");  // revisions up to 4 > 2
  RecordList tomb_with_share{{{"a", {2, 0}}, mvcc::Record{true, 0, 0, 0, "x"}}};
  CHECK(target->install_chunk(tomb_with_share).error().code == "mvcc.corrupt");
  CHECK(target->begin_install(1, mvcc::SnapshotPoint{5, 2, 3}).error().code == "mvcc.corrupt");
}
