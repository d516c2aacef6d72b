#pragma once
// A little cluster's worth of MVCC records for repair tests: several revisions per key, tombstones, and
// every put's value split for share indexes 1..members, so each "member" has its own share of each record.

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "etsecd/mvcc/backend.h"
#include "etsecd/mvcc/memory_backend.h"
#include "etsecd/mvcc/store.h"
#include "etsecd/repair/rebuild_chunk.h"
#include "etsecd/shamir/random.h"
#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"

namespace etsecd::repair::testing {

struct Fixture {
  unsigned threshold = 3;
  unsigned members = 5;
  mvcc::SnapshotPoint point;
  // records per member x (1-based); identical keys and metadata, different shares.
  std::map<uint8_t, RecordList> by_x;
  std::vector<std::string> values;  // values[i] = value of put record i (empty for tombstones)

  static Fixture make(unsigned keys, unsigned revisions_per_key, size_t value_size, uint64_t seed,
                      unsigned threshold = 3, unsigned members = 5) {
    Fixture f;
    f.threshold = threshold;
    f.members = members;
    auto rng = shamir::make_deterministic(seed);
    std::vector<uint8_t> xs;
    for (unsigned x = 1; x <= members; ++x) xs.push_back(static_cast<uint8_t>(x));
    int64_t rev = 1;
    for (unsigned k = 0; k < keys; ++k) {
      const std::string key = "key/" + std::to_string(1000000 + k);
      int64_t create = 0;
      int64_t version = 0;
      for (unsigned r = 0; r < revisions_per_key; ++r) {
        ++rev;
        const bool tombstone = r > 0 && (r % 3 == 2);
        mvcc::RecordKey rk{key, {rev, 0}};
        if (tombstone) {
          for (uint8_t x : xs) f.by_x[x].push_back({rk, mvcc::Record{true, 0, 0, 0, {}}});
          f.values.emplace_back();
          create = 0;
          version = 0;
          continue;
        }
        if (create == 0) create = rev;
        ++version;
        std::vector<uint8_t> value(value_size);
        rng->fill(value);
        auto shares = shamir::split(value, threshold, xs, *rng);
        for (size_t i = 0; i < xs.size(); ++i) {
          auto enc = shamir::encode_share((*shares)[i], threshold);
          f.by_x[xs[i]].push_back(
              {rk, mvcc::Record{false, create, version, 0, std::string(enc.begin(), enc.end())}});
        }
        f.values.emplace_back(value.begin(), value.end());
      }
    }
    f.point = mvcc::SnapshotPoint{static_cast<uint64_t>(rev) + 10, rev, mvcc::kNoCompaction};
    return f;
  }
};

inline std::unique_ptr<mvcc::Store> memory_store() {
  auto store = mvcc::Store::open(std::make_unique<mvcc::MemoryBackend>());
  REQUIRE(store.ok());
  return std::move(store).value();
}

// A holder: an in-memory store with member x's records installed at the fixture's point.
inline std::unique_ptr<mvcc::Store> store_of(const Fixture& f, uint8_t x) {
  auto store = memory_store();
  REQUIRE(store->begin_install(1, f.point).ok());
  REQUIRE(store->install_chunk(f.by_x.at(x)).ok());
  REQUIRE(store->finish_install().ok());
  return store;
}

inline RecordList all_records(const mvcc::Store& store) {
  RecordList out;
  auto meta = store.export_records([&](const mvcc::RecordKey& k, const mvcc::Record& r) {
    out.emplace_back(k, r);
    return Status::Ok();
  });
  REQUIRE(meta.ok());
  return out;
}

}  // namespace etsecd::repair::testing
