#include "etsecd/repair/rebuild_chunk.h"

#include <doctest/doctest.h>

#include "fixture.h"

using namespace etsecd;
using namespace etsecd::repair;
using etsecd::repair::testing::Fixture;

namespace {

HolderShares holder(const Fixture& f, uint8_t x) {
  HolderShares h{x, {}};
  for (const auto& [key, record] : f.by_x.at(x)) {
    if (record.tombstone) {
      h.shares.emplace_back();
    } else {
      h.shares.emplace_back(record.share);
    }
  }
  return h;
}

}  // namespace

TEST_CASE("rebuild_chunk gives exactly the share a split would have given at the target x") {
  auto f = Fixture::make(40, 4, 100, 7);
  RebuildStats stats;
  auto out = rebuild_chunk(f.by_x[1], 1, {holder(f, 2), holder(f, 3)}, 3, 5, mvcc::kNoCompaction, &stats);
  REQUIRE(out.ok());
  CHECK(*out == f.by_x[5]);
  CHECK(stats.records == f.by_x[5].size());
  CHECK(stats.shares_computed > 0);
  CHECK(stats.checked_extra == 0);

  // With a fourth holder every record's polynomial is confirmed by a (k+1)-th share.
  RebuildStats checked;
  auto again = rebuild_chunk(f.by_x[1], 1, {holder(f, 2), holder(f, 3), holder(f, 4)}, 3, 5,
                             mvcc::kNoCompaction, &checked);
  REQUIRE(again.ok());
  CHECK(*again == f.by_x[5]);
  CHECK(checked.checked_extra == checked.shares_computed);
}

TEST_CASE("a corrupt holder share is rejected and another holder's used; a lying one is caught") {
  auto f = Fixture::make(10, 2, 64, 11);
  auto h2 = holder(f, 2);
  auto h3 = holder(f, 3);
  auto h4 = holder(f, 4);
  // Flip a bit inside a share: its CRC fails, so it is skipped and h4 fills in.
  (*h2.shares[0])[10] ^= 0x01;
  RebuildStats stats;
  auto out = rebuild_chunk(f.by_x[1], 1, {h2, h3, h4}, 3, 5, mvcc::kNoCompaction, &stats);
  REQUIRE(out.ok());
  CHECK(*out == f.by_x[5]);
  CHECK(stats.rejected_shares == 1);

  // A share that passes its checksum but lies on another polynomial (re-encoded after tampering) is
  // caught by the (k+1)-th share, not silently used.
  auto bad = shamir::decode_share(
      std::span(reinterpret_cast<const uint8_t*>(h3.shares[0]->data()), h3.shares[0]->size()));
  REQUIRE(bad.ok());
  std::vector<uint8_t> y(bad->share.y.begin(), bad->share.y.end());
  y[0] ^= 0x5a;
  auto enc = shamir::encode_share(shamir::ShareView(3, y), 3);
  h3.shares[0] = std::string(enc.begin(), enc.end());
  auto caught = rebuild_chunk(f.by_x[1], 1, {holder(f, 2), h3, h4}, 3, 5, mvcc::kNoCompaction);
  REQUIRE_FALSE(caught.ok());
  CHECK(caught.error().code == "repair.inconsistent_shares");
}

TEST_CASE("with k+2 shares one checksum-valid but wrong share is outvoted") {
  auto f = Fixture::make(10, 2, 64, 17, 3, 6);
  auto h3 = holder(f, 3);
  for (auto& share : h3.shares) {
    if (!share) continue;
    auto d = shamir::decode_share(std::span(reinterpret_cast<const uint8_t*>(share->data()), share->size()));
    REQUIRE(d.ok());
    std::vector<uint8_t> y(d->share.y.begin(), d->share.y.end());
    y[y.size() / 2] ^= 0x33;
    auto enc = shamir::encode_share(shamir::ShareView(3, y), 3);
    share = std::string(enc.begin(), enc.end());
  }
  RebuildStats stats;
  auto out = rebuild_chunk(f.by_x[1], 1, {holder(f, 2), h3, holder(f, 4), holder(f, 5)}, 3, 6,
                           mvcc::kNoCompaction, &stats);
  REQUIRE(out.ok());
  CHECK(*out == f.by_x[6]);
  CHECK(stats.outvoted_shares == stats.shares_computed);
}

TEST_CASE("too few shares is an error unless the holders compacted the record") {
  auto f = Fixture::make(5, 3, 32, 3);
  auto h2 = holder(f, 2);
  // Holder 2 no longer has the first record (compacted after the export).
  h2.shares[0].reset();
  auto out = rebuild_chunk(f.by_x[1], 1, {h2, holder(f, 3)}, 3, 5, mvcc::kNoCompaction);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == "repair.insufficient_shares");
  CHECK(out.error().message.find("1 record") != std::string::npos);

  RebuildStats stats;
  const int64_t first_rev = f.by_x[1][0].first.rev.main;
  auto skipped = rebuild_chunk(f.by_x[1], 1, {h2, holder(f, 3)}, 3, 5, first_rev + 1, &stats);
  REQUIRE(skipped.ok());
  CHECK(stats.skipped_compacted == 1);
  CHECK(skipped->size() == f.by_x[5].size() - 1);
}

TEST_CASE("bad arguments are refused") {
  auto f = Fixture::make(3, 1, 16, 5);
  CHECK(rebuild_chunk(f.by_x[1], 1, {holder(f, 2), holder(f, 3)}, 3, 0, -1).error().code ==
        "repair.bad_argument");
  CHECK(rebuild_chunk(f.by_x[1], 1, {holder(f, 2), holder(f, 3)}, 3, 2, -1).error().code ==
        "repair.bad_argument");
  auto short_holder = holder(f, 2);
  short_holder.shares.pop_back();
  CHECK(rebuild_chunk(f.by_x[1], 1, {short_holder, holder(f, 3)}, 3, 5, -1).error().code ==
        "repair.bad_argument");
  // A share claiming the wrong x counts as rejected, leaving too few.
  auto wrong = holder(f, 2);
  wrong.x = 4;
  CHECK(rebuild_chunk(f.by_x[1], 1, {wrong, holder(f, 3)}, 3, 5, -1).error().code ==
        "repair.insufficient_shares");
}
