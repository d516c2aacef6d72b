// Reads running while entries are applied must always see a whole revision: here entry i puts key
// "k<i>" (revision i+1), so a read that reports header revision r must see exactly keys k1..k(r-1).

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "harness.h"

using namespace etsecd::mvcc;
using namespace etsecd::mvcc::testing;

TEST_CASE("concurrent reads see only whole applied entries") {
  Harness h;
  constexpr int kEntries = 400;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};

  auto reader = [&] {
    RangeOp all;
    all.key = "k";
    all.range_end = "l";
    while (!done.load()) {
      auto r = h.store->range(all);
      if (!r.ok() || r->count != r->revision - 1 || static_cast<int64_t>(r->kvs.size()) != r->count) {
        failures.fetch_add(1);
        continue;
      }
      for (const auto& kv : r->kvs) {
        if (kv.share != "s" + kv.key.substr(1) || kv.mod_revision > r->revision) failures.fetch_add(1);
      }
      auto exact = h.store->get_at("k1", 2);
      if (r->revision >= 2 && (!exact.ok() || exact->share != "s1")) failures.fetch_add(1);
      reads.fetch_add(1);
    }
  };
  std::thread r1(reader), r2(reader);
  // On a loaded machine the readers may not run until the writer is done: let them start first, so
  // reads really overlap the applies.
  for (int spin = 0; reads.load() < 2 && spin < 10000; ++spin)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int i = 1; i <= kEntries; ++i) {
    REQUIRE(h.put("k" + std::to_string(i), "s" + std::to_string(i)).ok());
  }
  done.store(true);
  r1.join();
  r2.join();
  CHECK(failures.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(h.store->current_revision() == kEntries + 1);
}
