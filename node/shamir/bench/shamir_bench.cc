// Split/combine throughput of the etsecd codec beside Debian's libgfshare (in memory, same buffers and
// parameters) and beside a plain memcpy of the same size, plus the gfsplit/gfcombine tools on a 64 MiB
// file for reference, and a breakdown of split into CSPRNG and field arithmetic. Ends with RESULT lines.
//
// Throughput is secret bytes per second (MB = 10^6 bytes). Each figure is the best of several timed
// rounds, because the machine is shared. libgfshare's contexts are created outside the timed loop (its
// most favourable use) and it draws coefficients from the same AES-CTR CSPRNG as etsecd, so the ratio
// compares the arithmetic and data movement, not the random source.

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <libgfshare.h>
}

#include "etsecd/shamir/backend.h"
#include "etsecd/shamir/random.h"
#include "etsecd/shamir/shamir.h"

using namespace etsecd::shamir;
using Clock = std::chrono::steady_clock;

extern "C" char** environ;

namespace {
RandomSource* g_gfshare_rng = nullptr;
}  // namespace

extern "C" void gfshare_rng_adapter(unsigned char* buffer, unsigned int count) {
  g_gfshare_rng->fill(std::span<uint8_t>(buffer, count));
}

namespace {

// A source that leaves the coefficient buffer as it is: split minus the CSPRNG, i.e. the field
// arithmetic and data movement alone.
class NoRandom final : public RandomSource {
 public:
  void fill(std::span<uint8_t>) override {}
};

// Seconds per call: runs `fn` in rounds of doubling size until a round takes >= 1 ms, then keeps the
// best per-call time over rounds totalling about `budget` seconds. Many short rounds and the minimum
// filter out the other processes on a shared machine.
double time_per_call(const std::function<void()>& fn, double budget = 0.3) {
  size_t iterations = 1;
  double best = 1e30;
  double spent = 0;
  while (spent < budget) {
    const auto start = Clock::now();
    for (size_t i = 0; i < iterations; ++i) fn();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    spent += elapsed;
    if (elapsed < 0.001) {
      iterations *= 2;
      continue;
    }
    best = std::min(best, elapsed / double(iterations));
  }
  return best;
}

double mbps(size_t bytes, double seconds) { return double(bytes) / seconds / 1e6; }

std::string size_label(size_t n) {
  if (n >= 1024 * 1024) return std::to_string(n / (1024 * 1024)) + "MiB";
  if (n >= 1024) return std::to_string(n / 1024) + "KiB";
  return std::to_string(n) + "B";
}

struct Row {
  std::string op;
  unsigned k, n;
  size_t len;
  double ours, peer, memcpy_s;  // seconds per value
};

struct Breakdown {
  unsigned k, n;
  size_t len;
  double split, rng, arith;
};

std::vector<std::string> g_results;
void result(const std::string& metric, double value, const char* unit) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "RESULT %s %.2f %s", metric.c_str(), value, unit);
  g_results.emplace_back(buf);
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark self-check failed: %s\n", what);
    std::exit(1);
  }
}

struct Case {
  unsigned k, n;
  size_t len;
  std::vector<uint8_t> xs;
  std::vector<uint8_t> secret;
  std::vector<std::vector<uint8_t>> shares;  // n buffers of len
  std::vector<uint8_t> out;
  std::vector<uint8_t> copy_src, copy_dst;  // n * len, for the memcpy bound
};

Case make_case(unsigned k, unsigned n, size_t len, RandomSource& rng) {
  Case c{k,
         n,
         len,
         {},
         std::vector<uint8_t>(len),
         std::vector<std::vector<uint8_t>>(n, std::vector<uint8_t>(len)),
         std::vector<uint8_t>(len),
         std::vector<uint8_t>(n * len, 1),
         std::vector<uint8_t>(n * len)};
  for (unsigned i = 0; i < n; ++i) c.xs.push_back(static_cast<uint8_t>(i + 1));
  rng.fill(c.secret);
  return c;
}

double time_split(Case& c, RandomSource& rng) {
  std::vector<std::span<uint8_t>> outs(c.shares.begin(), c.shares.end());
  require(split_into(c.secret, c.k, c.xs, rng, outs).ok(), "split_into");
  return time_per_call([&] { (void)split_into(c.secret, c.k, c.xs, rng, outs); });
}

double time_combine(Case& c) {
  // Combine from the last k shares (not x = 1..k), a general position.
  std::vector<ShareView> views;
  for (unsigned i = c.n - c.k; i < c.n; ++i) views.emplace_back(c.xs[i], c.shares[i]);
  require(combine_into(views, c.k, c.out).ok() && c.out == c.secret, "combine_into round trip");
  return time_per_call([&] { (void)combine_into(views, c.k, c.out); });
}

double time_gfshare_split(Case& c) {
  gfshare_ctx* ctx =
      gfshare_ctx_init_enc(c.xs.data(), c.n, static_cast<unsigned char>(c.k), static_cast<unsigned>(c.len));
  require(ctx != nullptr, "gfshare_ctx_init_enc");
  auto run = [&] {
    gfshare_ctx_enc_setsecret(ctx, c.secret.data());
    for (unsigned i = 0; i < c.n; ++i)
      gfshare_ctx_enc_getshare(ctx, static_cast<unsigned char>(i), c.shares[i].data());
  };
  const double t = time_per_call(run);
  gfshare_ctx_free(ctx);
  return t;
}

double time_gfshare_combine(Case& c) {
  // Fresh libgfshare shares (its field differs from ours, so ours cannot be fed to it).
  gfshare_ctx* enc =
      gfshare_ctx_init_enc(c.xs.data(), c.n, static_cast<unsigned char>(c.k), static_cast<unsigned>(c.len));
  gfshare_ctx_enc_setsecret(enc, c.secret.data());
  for (unsigned i = 0; i < c.n; ++i)
    gfshare_ctx_enc_getshare(enc, static_cast<unsigned char>(i), c.shares[i].data());
  gfshare_ctx_free(enc);
  std::vector<uint8_t> nrs(c.xs.end() - c.k, c.xs.end());
  gfshare_ctx* dec = gfshare_ctx_init_dec(nrs.data(), c.k, static_cast<unsigned>(c.len));
  require(dec != nullptr, "gfshare_ctx_init_dec");
  auto run = [&] {
    for (unsigned i = 0; i < c.k; ++i)
      gfshare_ctx_dec_giveshare(dec, static_cast<unsigned char>(i), c.shares[c.n - c.k + i].data());
    gfshare_ctx_dec_extract(dec, c.out.data());
  };
  run();
  require(c.out == c.secret, "libgfshare round trip");
  const double t = time_per_call(run);
  gfshare_ctx_free(dec);
  return t;
}

double time_memcpy(Case& c, size_t bytes) {
  return time_per_call([&] {
    std::memcpy(c.copy_dst.data(), c.copy_src.data(), bytes);
    asm volatile("" : : "r"(c.copy_dst.data()) : "memory");
  });
}

// Runs a command, returning its wall time in seconds (or a negative value on failure).
double run_timed(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  const double t = std::chrono::duration<double>(Clock::now() - start).count();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void tools_reference(RandomSource& rng) {
  constexpr size_t kFile = 64 * 1024 * 1024;
  char dir_template[] = "/tmp/etsecd-bench-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  require(dir != nullptr, "mkdtemp");
  const std::string base = std::string(dir) + "/value";
  std::vector<uint8_t> data(kFile);
  rng.fill(data);
  {
    std::ofstream out(base, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }
  std::printf(
      "\nReference: libgfshare's gfsplit/gfcombine tools on a 64 MiB file, (k,n)=(3,5), page cache warm\n");
  const double split_t = run_timed({"gfsplit", "-n", "3", "-m", "5", base, base});
  std::vector<std::string> parts;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename() != "value") parts.push_back(entry.path().string());
  }
  std::sort(parts.begin(), parts.end());
  double combine_t = -1;
  if (split_t > 0 && parts.size() == 5) {
    std::vector<std::string> cmd{"gfcombine", "-o", base + ".out", parts[1], parts[3], parts[4]};
    combine_t = run_timed(cmd);
  }
  const bool ok = combine_t > 0 && read_file(base + ".out") == data;
  if (ok) {
    std::printf("  gfsplit   %8.1f MB/s  (%.2f s)\n  gfcombine %8.1f MB/s  (%.2f s), output verified\n",
                mbps(kFile, split_t), split_t, mbps(kFile, combine_t), combine_t);
    result("gfsplit_tool_3of5_64MiB", mbps(kFile, split_t), "MB/s");
    result("gfcombine_tool_3of5_64MiB", mbps(kFile, combine_t), "MB/s");
  } else {
    std::printf("  gfsplit/gfcombine unavailable or failed (install libgfshare-bin)\n");
  }
  // etsecd on the same 64 MiB value, in memory.
  Case c{3,
         5,
         kFile,
         {1, 2, 3, 4, 5},
         std::move(data),
         std::vector<std::vector<uint8_t>>(5, std::vector<uint8_t>(kFile)),
         std::vector<uint8_t>(kFile),
         {},
         {}};
  const double ours_split = time_split(c, rng);
  const double ours_combine = time_combine(c);
  // The memcpy bound at this size (DRAM, not cache): n*len bytes copied, as for the smaller sizes.
  std::vector<uint8_t> sink(kFile);
  const double copy = time_per_call([&] {
    for (const auto& share : c.shares) std::memcpy(sink.data(), share.data(), kFile);
    asm volatile("" : : "r"(sink.data()) : "memory");
  });
  std::printf("  etsecd in memory: split %8.1f MB/s, combine %8.1f MB/s; memcpy of n*len %8.1f MB/s\n",
              mbps(kFile, ours_split), mbps(kFile, ours_combine), mbps(kFile, copy));
  result("split_throughput_3of5_64MiB", mbps(kFile, ours_split), "MB/s");
  result("split_vs_memcpy_3of5_64MiB", copy / ours_split, "x");
  std::filesystem::remove_all(dir);
}

}  // namespace

int main() {
  auto csprng = make_csprng();
  g_gfshare_rng = csprng.get();
  gfshare_fill_rand = &gfshare_rng_adapter;

  std::printf("etsecd shamir benchmark: GF backend %s, CRC backend %s\n", name(active_gf_backend()),
              name(active_crc_backend()));
  std::printf(
      "Throughput in MB/s of secret bytes; ratio = etsecd speed / peer speed; \"of memcpy\" = time of a\n"
      "memcpy of the bytes the operation writes (split: n*len) or reads (combine: k*len) / etsecd time.\n\n");

  const std::vector<std::pair<unsigned, unsigned>> params{{3, 5}, {5, 9}};
  const std::vector<size_t> sizes{64, 1024, 64 * 1024, 1024 * 1024};
  std::vector<Row> rows;
  std::vector<Breakdown> breakdown;
  NoRandom no_random;
  for (auto [k, n] : params) {
    for (size_t len : sizes) {
      Case c = make_case(k, n, len, *csprng);
      const double split_s = time_split(c, *csprng);
      const double arith_s = time_split(c, no_random);
      // The CSPRNG alone, drawn exactly as split draws it: one fill of (k-1) rows per chunk.
      const size_t chunk = split_chunk_bytes(k);
      std::vector<uint8_t> coeff((k - 1) * std::min(len, chunk));
      const double rng_s = time_per_call([&] {
        for (size_t off = 0; off < len; off += chunk) {
          csprng->fill(std::span(coeff).first((k - 1) * std::min(chunk, len - off)));
        }
      });
      const double combine_s = time_combine(c);
      const double gf_split = time_gfshare_split(c);
      const double gf_combine = time_gfshare_combine(c);
      const double copy_split = time_memcpy(c, n * len);
      const double copy_combine = time_memcpy(c, k * len);
      rows.push_back({"split", k, n, len, split_s, gf_split, copy_split});
      rows.push_back({"combine", k, n, len, combine_s, gf_combine, copy_combine});
      breakdown.push_back({k, n, len, split_s, rng_s, arith_s});
    }
  }

  std::printf("%-8s %-6s %-7s %12s %12s %9s %12s %10s\n", "op", "(k,n)", "size", "etsecd MB/s",
              "gfshare MB/s", "ratio", "memcpy MB/s", "of memcpy");
  for (const Row& r : rows) {
    std::printf("%-8s (%u,%u)  %-7s %12.1f %12.1f %8.1fx %12.1f %9.2fx\n", r.op.c_str(), r.k, r.n,
                size_label(r.len).c_str(), mbps(r.len, r.ours), mbps(r.len, r.peer), r.peer / r.ours,
                mbps(r.len, r.memcpy_s), r.memcpy_s / r.ours);
    const std::string tag = std::to_string(r.k) + "of" + std::to_string(r.n) + "_" + size_label(r.len);
    result(r.op + "_vs_libgfshare_" + tag, r.peer / r.ours, "x");
  }
  for (const Row& r : rows) {
    if (r.len != 64 * 1024) continue;
    const std::string tag = std::to_string(r.k) + "of" + std::to_string(r.n) + "_64KiB";
    result(r.op + "_throughput_" + tag, mbps(r.len, r.ours), "MB/s");
    result(r.op + "_vs_memcpy_" + tag, r.memcpy_s / r.ours, "x");
  }

  std::printf(
      "\nWhat bounds split: time per value split into the CSPRNG alone ((k-1)*len bytes, in split's "
      "chunks)\nand the field "
      "arithmetic alone (split with a source that leaves the coefficient buffer untouched).\n");
  std::printf("%-6s %-7s %11s %11s %11s %9s %9s\n", "(k,n)", "size", "split us", "csprng us", "arith us",
              "csprng%", "arith%");
  for (const Breakdown& b : breakdown) {
    std::printf("(%u,%u)  %-7s %11.2f %11.2f %11.2f %8.0f%% %8.0f%%\n", b.k, b.n, size_label(b.len).c_str(),
                b.split * 1e6, b.rng * 1e6, b.arith * 1e6, 100 * b.rng / b.split, 100 * b.arith / b.split);
    if (b.len == 64 * 1024) {
      const std::string tag = std::to_string(b.k) + "of" + std::to_string(b.n) + "_64KiB";
      result("csprng_share_of_split_" + tag, 100 * b.rng / b.split, "%");
      result("split_arith_only_throughput_" + tag, mbps(b.len, b.arith), "MB/s");
    }
  }
  {
    std::vector<uint8_t> buf(1024 * 1024);
    const double t = time_per_call([&] { csprng->fill(buf); });
    std::printf("CSPRNG alone (1 MiB fills): %.1f MB/s\n", mbps(buf.size(), t));
    result("csprng_throughput", mbps(buf.size(), t), "MB/s");
  }

  std::printf("\nGF backends at (3,5), 64 KiB (same machine, forced):\n");
  const GfBackend chosen = active_gf_backend();
  for (GfBackend b : supported_gf_backends()) {
    (void)select_gf_backend(b);
    Case c = make_case(3, 5, 64 * 1024, *csprng);
    const double s = time_split(c, *csprng);
    const double cmb = time_combine(c);
    std::printf("  %-10s split %9.1f MB/s   combine %9.1f MB/s\n", name(b), mbps(c.len, s), mbps(c.len, cmb));
  }
  (void)select_gf_backend(chosen);

  tools_reference(*csprng);

  std::printf("\n");
  for (const auto& line : g_results) std::printf("%s\n", line.c_str());
  return 0;
}
