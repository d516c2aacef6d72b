// scripts/bench repair: how fast a member with no shares gets its shares computed from k = 3 holders,
// for a store of 1 GiB of values (1 KiB each by default), beside a plain file copy of the same number
// of bytes between two local directories as the bound.
//
// The repair is the real session (repair::run_session) over real RocksDB stores, with every message
// encoded and decoded as on the wire: bounded chunks exported by the leader, k = 3 other holders'
// shares of the same records (so each record is checked with k+1 shares), repair_at at the new x, and
// the resumable install on the new member (one batch per chunk, then sync). Calls go straight to the
// holders' and new member's handlers: the network hop between members (gRPC + TLS) is NOT included.
//
// Usage: etsecd_repair_bench [--bytes N] [--value-size N] [--chunk-records N] [--dir D] [--keep]

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "etsecd/mvcc/store.h"
#include "etsecd/repair/receiver.h"
#include "etsecd/repair/session.h"
#include "etsecd/shamir/random.h"
#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"
#include "etsecd/storage/rocks_backend.h"

using namespace etsecd;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

constexpr unsigned kThreshold = 3;
constexpr uint8_t kHolders = 4;  // a 4-member cluster at k=3 growing to 5
constexpr uint8_t kTargetX = 5;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "repair_bench: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<mvcc::Store> open_store(const fs::path& dir, bool sync) {
  auto backend = storage::RocksBackend::open(dir.string(), storage::RocksOptions{sync, true});
  if (!backend.ok()) die(backend.error().message);
  auto store = mvcc::Store::open(std::move(backend).value());
  if (!store.ok()) die(store.error().message);
  return std::move(store).value();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string key_of(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "bench/%012llu", static_cast<unsigned long long>(i));
  return buf;
}

// Copies src to dst with 1 MiB reads and writes and an fsync: the bound a repair is compared with.
double timed_copy(const fs::path& src, const fs::path& dst) {
  const auto t = Clock::now();
  int in = ::open(src.c_str(), O_RDONLY);
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in < 0 || out < 0) die("cannot open the copy files");
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) die("read failed");
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<size_t>(n - off));
      if (w <= 0) die("write failed");
      off += w;
    }
  }
  if (::fsync(out) != 0) die("fsync failed");
  ::close(in);
  ::close(out);
  return seconds_since(t);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t total_bytes = 1ull << 30;
  size_t value_size = 1024;
  size_t chunk_records = 4096;
  fs::path dir;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--bytes") {
      total_bytes = std::stoull(next());
    } else if (a == "--value-size") {
      value_size = std::stoul(next());
    } else if (a == "--chunk-records") {
      chunk_records = std::stoul(next());
    } else if (a == "--dir") {
      dir = next();
    } else if (a == "--keep") {
      keep = true;
    } else {
      die("unknown argument " + a +
          " (usage: [--bytes N] [--value-size N] [--chunk-records N] [--dir D] [--keep])");
    }
  }
  if (value_size == 0 || chunk_records == 0) die("--value-size and --chunk-records must be positive");
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "etsecd-repair-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) die("mkdtemp failed");
    dir = tmpl;
  }
  fs::create_directories(dir);
  const uint64_t records = total_bytes / value_size;
  std::printf(
      "repair bench: %llu values of %zu bytes (%.1f MiB), k=%u, holders x=1..4 (leader x=1), new member "
      "x=%u, "
      "chunks of %zu records, in %s\n",
      static_cast<unsigned long long>(records), value_size,
      static_cast<double>(records * value_size) / (1 << 20), kThreshold, kTargetX, chunk_records,
      dir.c_str());

  // ---- Set-up: three holders' stores, each with its own share of every value ----
  std::vector<std::unique_ptr<mvcc::Store>> holders;
  for (int x = 1; x <= kHolders; ++x)
    holders.push_back(open_store(dir / ("holder" + std::to_string(x)), false));
  const int64_t last_rev = static_cast<int64_t>(records) + 1;
  const mvcc::SnapshotPoint point{static_cast<uint64_t>(records) + 10, last_rev, mvcc::kNoCompaction};
  for (auto& h : holders) {
    if (auto s = h->begin_install(1, point); !s) die(s.error().message);
  }
  std::vector<uint32_t> expected_crc(records);  // CRC of the share x=4 would have had from the split
  std::vector<uint32_t> value_crc(records);
  {
    auto rng = shamir::make_csprng();
    const std::vector<uint8_t> xs{1, 2, 3, 4, kTargetX};
    std::vector<uint8_t> value(value_size);
    std::vector<repair::RecordList> batch(kHolders);
    const auto t = Clock::now();
    for (uint64_t i = 0; i < records; ++i) {
      rng->fill(value);
      value_crc[i] = shamir::crc32c(value);
      auto shares = shamir::split(value, kThreshold, xs, *rng);
      if (!shares) die(shares.error().message);
      const mvcc::RecordKey key{key_of(i), {static_cast<int64_t>(i) + 2, 0}};
      for (size_t h = 0; h < kHolders; ++h) {
        auto enc = shamir::encode_share((*shares)[h], kThreshold);
        batch[h].emplace_back(key,
                              mvcc::Record{false, key.rev.main, 1, 0, std::string(enc.begin(), enc.end())});
      }
      expected_crc[i] = shamir::crc32c(shamir::encode_share((*shares)[kHolders], kThreshold));
      if (batch[0].size() == 4096 || i + 1 == records) {
        for (size_t h = 0; h < kHolders; ++h) {
          if (auto s = holders[h]->install_chunk(batch[h]); !s) die(s.error().message);
          batch[h].clear();
        }
      }
    }
    for (auto& h : holders) {
      if (auto s = h->finish_install(); !s) die(s.error().message);
      if (auto s = h->sync(); !s) die(s.error().message);
    }
    std::printf("set-up: %u holder stores written in %.1f s\n", kHolders, seconds_since(t));
  }

  // ---- The repair: the leader (x=1) runs a session against in-process holders and new member ----
  const long rss_before = max_rss_kib();
  auto target = open_store(dir / "new-member", false);
  repair::Receiver receiver(*target, repair::Receiver::Hooks{});
  auto call = [&](uint64_t id, const std::string& method, const std::string& body) -> Result<std::string> {
    const std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    if (id == kTargetX) return receiver.handle(method, in);
    return repair::serve_shares(*holders[id - 1], in);
  };
  repair::SessionPlan plan;
  plan.self_x = 1;
  plan.threshold = kThreshold;
  for (uint8_t x = 2; x <= kHolders; ++x) plan.holders.push_back(repair::Peer{x, x});
  plan.target = repair::Peer{kTargetX, kTargetX};
  plan.source = 1;
  plan.raft_snapshot = [](const mvcc::SnapshotPoint&) -> Result<std::string> { return std::string("meta"); };
  repair::SessionOptions options;
  options.max_records = chunk_records;
  const auto t0 = Clock::now();
  auto session = repair::run_session(*holders[0], plan, call, options);
  if (!session) die(session.error().message);
  if (auto s = target->sync(); !s) die(s.error().message);
  const double repair_s = seconds_since(t0);
  const long rss_after = max_rss_kib();
  const repair::RebuildStats& stats = session->rebuild;
  const uint64_t chunks = session->chunks;
  // The chunk bound: records per chunk x encoded share size (the byte bound, 4 MiB, is not reached).
  const uint64_t chunk_share_bytes =
      std::min<uint64_t>(options.max_bytes, chunk_records * shamir::encoded_share_size(value_size));

  // ---- Check: every share is the one the split gave x=4, and k of them give the values back ----
  {
    uint64_t i = 0;
    uint64_t wrong = 0;
    std::string holder_share;
    auto meta = target->export_records([&](const mvcc::RecordKey& k, const mvcc::Record& r) {
      if (i >= records || k.key != key_of(i) || shamir::crc32c(bytes_of(r.share)) != expected_crc[i]) ++wrong;
      if (i % 997 == 0 && i < records) {
        // Rebuild this value from the new member's share and two holders' shares.
        const std::vector<mvcc::RecordKey> one{k};
        auto s1 = holders[0]->shares_of(one);
        auto s2 = holders[1]->shares_of(one);
        auto d0 = shamir::decode_share(bytes_of(r.share));
        auto d1 = shamir::decode_share(bytes_of(*(*s1)[0]));
        auto d2 = shamir::decode_share(bytes_of(*(*s2)[0]));
        if (!d0 || !d1 || !d2) {
          ++wrong;
        } else {
          const std::vector<shamir::ShareView> views{d0->share, d1->share, d2->share};
          auto value = shamir::combine(views, kThreshold);
          if (!value || shamir::crc32c(*value) != value_crc[i]) ++wrong;
        }
      }
      ++i;
      return Status::Ok();
    });
    if (!meta) die(meta.error().message);
    if (i != records || wrong != 0) {
      die("repaired store is wrong: " + std::to_string(wrong) + " bad records, " + std::to_string(i) +
          " of " + std::to_string(records));
    }
    std::printf("check: all %llu repaired shares equal the split's share at x=%u; sampled values rebuild\n",
                static_cast<unsigned long long>(records), kTargetX);
  }

  // ---- The bound: a plain copy of the same number of bytes between two directories ----
  double copy_s = 0;
  {
    fs::create_directories(dir / "copy-a");
    fs::create_directories(dir / "copy-b");
    const fs::path src = dir / "copy-a" / "data";
    {
      auto rng = shamir::make_csprng();
      std::vector<uint8_t> buf(1 << 20);
      FILE* f = std::fopen(src.c_str(), "wb");
      if (f == nullptr) die("cannot create the copy source");
      for (uint64_t done = 0; done < records * value_size; done += buf.size()) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), records * value_size - done));
        rng->fill(std::span(buf).first(n));
        if (std::fwrite(buf.data(), 1, n, f) != n) die("write failed");
      }
      std::fflush(f);
      ::fsync(fileno(f));
      std::fclose(f);
    }
    copy_s = timed_copy(src, dir / "copy-b" / "data");
  }

  const double mib = static_cast<double>(records * value_size) / (1 << 20);
  const double repair_mbs = mib / repair_s;
  const double copy_mbs = mib / copy_s;
  std::printf("\n%-44s %10s %12s\n", "", "seconds", "MiB/s");
  std::printf("%-44s %10.2f %12.1f\n", "repair session (export, 3 holders, install)", repair_s, repair_mbs);
  std::printf("%-44s %10.2f %12.1f\n", "plain file copy of the same bytes (bound)", copy_s, copy_mbs);
  std::printf(
      "repair speed = %.2fx of the copy; %llu chunks of at most %.1f MiB of shares, %llu records checked "
      "with k+1 shares; "
      "peak RSS %ld MiB during set-up, %ld MiB after the repair\n",
      repair_mbs / copy_mbs, static_cast<unsigned long long>(chunks),
      static_cast<double>(chunk_share_bytes) / (1 << 20),
      static_cast<unsigned long long>(stats.checked_extra), rss_before / 1024, rss_after / 1024);
  std::printf("RESULT repair_seconds_1GiB %.2f s\n", repair_s * (1024.0 / mib));
  std::printf("RESULT repair_throughput %.1f MiB/s\n", repair_mbs);
  std::printf("RESULT copy_throughput %.1f MiB/s\n", copy_mbs);
  std::printf("RESULT repair_vs_copy %.2f x\n", repair_mbs / copy_mbs);
  std::printf("RESULT repair_chunk_share_bytes_bound %llu bytes\n",
              static_cast<unsigned long long>(chunk_share_bytes));
  if (!keep) fs::remove_all(dir);
  return 0;
}
