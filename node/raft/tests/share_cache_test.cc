#include "share_cache.h"

#include <doctest/doctest.h>

using namespace etsecd::raft;

TEST_CASE("share cache finds shares by index, term and x") {
  ShareCache c(1 << 20);
  c.put(5, 2, 3, {{1, 2}});
  REQUIRE(c.find(5, 2, 3) != nullptr);
  CHECK(c.find(5, 1, 3) == nullptr);
  CHECK(c.find(5, 2, 4) == nullptr);
  c.put(5, 3, 4, {{7}});  // another term at the same index replaces the slot
  CHECK(c.find(5, 2, 3) == nullptr);
  CHECK(c.holders(5, 3)->size() == 1);
}

TEST_CASE("share cache evicts oldest unpinned slots, never pinned ones, and honours keep") {
  ShareCache c(100);
  for (uint64_t i = 1; i <= 5; ++i) c.put(i, 1, 2, {Bytes(40)}, /*pin=*/i == 1);
  CHECK(c.bytes() > 100);
  c.shrink([](uint64_t index) { return index == 2; });
  CHECK(c.find(1, 1, 2) != nullptr);  // pinned
  CHECK(c.find(2, 1, 2) != nullptr);  // kept
  CHECK(c.find(3, 1, 2) == nullptr);
  CHECK(c.find(4, 1, 2) == nullptr);
  CHECK(c.find(5, 1, 2) == nullptr);
  CHECK(c.bytes() == 128);  // only what is pinned or kept remains, even above the limit
  CHECK(c.pinned_bytes() > 0);
  c.unpin_through(1);
  CHECK(c.pinned_bytes() == 0);
  c.erase_from(2);
  CHECK(c.find(2, 1, 2) == nullptr);
  c.erase_through(1);
  CHECK(c.bytes() == 0);
  CHECK(c.evictions() >= 1);
}
