// MVCC store on RocksDB: cost of applying puts (one synced batch each, and group commit with one sync
// per 64 entries) and of single-key reads. Prints `RESULT <metric> <value> <unit>` lines for scripts/bench.
// Usage: etsecd_mvcc_bench [DIR]   (default: a fresh directory under /tmp, removed afterwards)

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "etsecd/mvcc/store.h"
#include "etsecd/storage/rocks_backend.h"

using namespace etsecd;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<mvcc::Store> open(const std::string& dir, bool sync) {
  auto backend = storage::RocksBackend::open(dir, storage::RocksOptions{sync, true});
  if (!backend.ok()) {
    std::fprintf(stderr, "%s\n", backend.error().message.c_str());
    std::exit(1);
  }
  auto store = mvcc::Store::open(std::move(backend).value());
  if (!store.ok()) std::exit(1);
  return std::move(store).value();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

void put(mvcc::Store& store, int i, const std::vector<std::string>& shares) {
  mvcc::PutOp p;
  p.key = "bench/" + std::to_string(i % 1000);
  p.value_slot = 0;
  if (!store.apply(store.applied_index() + 1, mvcc::Operation{p}, shares).ok()) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = argc > 1 ? argv[1] : "";
  bool temporary = base.empty();
  if (temporary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "etsecd-mvcc-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) return 1;
    base = tmpl;
  }
  const std::vector<std::string> shares{std::string(256, '\x5a')};

  {  // one fsync per applied entry
    auto store = open(base + "/sync", true);
    std::vector<double> us;
    const int n = 500;
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      put(*store, i, shares);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("RESULT mvcc_put_synced_p50 %.1f us\n", percentile(us, 0.5));
    std::printf("RESULT mvcc_put_synced_p99 %.1f us\n", percentile(us, 0.99));
    std::printf("RESULT mvcc_put_synced_rate %.0f puts/s\n", n / secs);
  }
  {  // group commit: no per-entry fsync, one sync() per 64 entries
    auto store = open(base + "/group", false);
    const int n = 20000;
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) {
      put(*store, i, shares);
      if (i % 64 == 63 && !store->sync().ok()) return 1;
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("RESULT mvcc_put_group64_rate %.0f puts/s\n", n / secs);

    std::vector<double> us;
    mvcc::RangeOp get;
    for (int i = 0; i < 20000; ++i) {
      get.key = "bench/" + std::to_string(i % 1000);
      auto t = Clock::now();
      auto r = store->range(get);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
      if (!r.ok() || r->kvs.size() != 1) return 1;
    }
    std::printf("RESULT mvcc_get_p50 %.2f us\n", percentile(us, 0.5));
    std::printf("RESULT mvcc_get_p99 %.2f us\n", percentile(us, 0.99));
  }
  if (temporary) std::filesystem::remove_all(base);
  return 0;
}
