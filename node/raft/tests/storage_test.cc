#include "etsecd/raft/storage.h"

#include <doctest/doctest.h>

using namespace etsecd::raft;

namespace {
Entry entry(uint64_t index, uint64_t term) {
  Entry e;
  e.index = index;
  e.term = term;
  e.metadata = {static_cast<uint8_t>(index)};
  return e;
}
}  // namespace

TEST_CASE("memory storage appends, overwrites a suffix and reports bounds") {
  MemoryStorage s;
  CHECK(s.first_index() == 1);
  CHECK(s.last_index() == 0);
  CHECK(*s.term(0) == 0);
  REQUIRE(s.append({entry(1, 1), entry(2, 1), entry(3, 2)}).ok());
  CHECK(s.last_index() == 3);
  CHECK(*s.term(3) == 2);
  REQUIRE(s.append({entry(2, 3)}).ok());  // replaces 2 and 3
  CHECK(s.last_index() == 2);
  CHECK(*s.term(2) == 3);
  CHECK(s.append({entry(5, 3)}).error().code == "raft.log_gap");
  CHECK(s.term(9).error().code == "raft.unavailable");
  auto two = s.entries(1, 3, 0);  // max_bytes 0 still returns one entry
  REQUIRE(two.ok());
  CHECK(two->size() == 1);
  CHECK(s.entries(1, 3, 1 << 20)->size() == 2);
}

TEST_CASE("memory storage compaction and share replacement") {
  MemoryStorage s;
  Entry e = entry(1, 1);
  e.shares = {{1, 2, 3}};
  REQUIRE(s.append({e, entry(2, 1), entry(3, 1)}).ok());
  REQUIRE(s.replace_share(1, 1, 0, {9, 9}).ok());
  CHECK(s.entries(1, 2, 0)->front().shares[0] == Bytes{9, 9});
  CHECK(s.replace_share(1, 2, 0, {9}).error().code == "raft.term_mismatch");
  REQUIRE(s.compact(2, Membership{}).ok());
  CHECK(s.first_index() == 3);
  CHECK(*s.term(2) == 1);
  CHECK(s.term(1).error().code == "raft.compacted");
  CHECK(s.entries(2, 3, 0).error().code == "raft.compacted");
  CHECK(s.append({entry(2, 5)}).error().code == "raft.compacted");
}
