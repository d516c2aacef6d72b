// Property: for random (k, n), x sets and lengths 0..1 MiB, every k-subset of the shares rebuilds the
// secret (all subsets when there are few, a random sample otherwise), in any order.

#include <doctest/doctest.h>

#include "test_util.h"

namespace etsecd::shamir {
namespace {

// Calls visit(subset) for every k-subset of {0..n-1} in lexicographic order.
template <class Visit>
void for_each_subset(unsigned n, unsigned k, Visit visit) {
  std::vector<unsigned> idx(k);
  for (unsigned i = 0; i < k; ++i) idx[i] = i;
  while (true) {
    visit(idx);
    int i = static_cast<int>(k) - 1;
    while (i >= 0 && idx[static_cast<size_t>(i)] == n - k + static_cast<unsigned>(i)) --i;
    if (i < 0) return;
    ++idx[static_cast<size_t>(i)];
    for (size_t j = static_cast<size_t>(i) + 1; j < k; ++j) idx[j] = idx[j - 1] + 1;
  }
}

size_t binomial(unsigned n, unsigned k) {
  size_t r = 1;
  for (unsigned i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

void check_reconstructs(const std::vector<Share>& shares, unsigned k, const std::vector<uint8_t>& secret,
                        const std::vector<unsigned>& subset, std::mt19937_64& gen) {
  std::vector<ShareView> picked;
  for (unsigned i : subset) picked.emplace_back(shares[i]);
  std::shuffle(picked.begin(), picked.end(), gen);
  auto back = combine(picked, k);
  REQUIRE(back.ok());
  REQUIRE(*back == secret);
}

size_t pick_length(std::mt19937_64& gen, int trial) {
  static const size_t kEdges[] = {0,  1,  2,   7,   8,   15,   16,   17,   31,
                                  32, 33, 127, 128, 129, 4095, 4096, 4097, 8193};
  if (trial < static_cast<int>(std::size(kEdges))) return kEdges[trial];
  if (trial % 40 == 0) return 1024 * 1024;                   // the top of the range, a few times
  if (trial % 10 == 0) return 65536 + gen() % (256 * 1024);  // medium values
  return gen() % 3000;
}

TEST_CASE("every k-subset reconstructs the secret") {
  std::mt19937_64 gen(20261122);
  auto rng = make_deterministic(99);
  size_t combines = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const size_t len = pick_length(gen, trial);
    const bool big = len > 100000;
    const unsigned n = trial % 15 == 7 ? 255 : 2 + static_cast<unsigned>(gen() % (big ? 8 : 20));
    const unsigned k = 2 + static_cast<unsigned>(gen() % (n - 1));
    CAPTURE(trial);
    CAPTURE(len);
    CAPTURE(n);
    CAPTURE(k);
    const std::vector<uint8_t> xs = testing::random_xs(gen, n);
    const std::vector<uint8_t> secret = testing::random_bytes(gen, len);
    auto shares = split(secret, k, xs, *rng);
    REQUIRE(shares.ok());
    REQUIRE(shares->size() == n);
    for (size_t i = 0; i < n; ++i) {
      REQUIRE((*shares)[i].x == xs[i]);
      REQUIRE((*shares)[i].y.size() == len);
    }
    const size_t budget = big ? 4 : 40;  // subsets to combine for this trial
    if (binomial(n, k) <= budget) {
      for_each_subset(n, k, [&](const std::vector<unsigned>& subset) {
        check_reconstructs(*shares, k, secret, subset, gen);
        ++combines;
      });
    } else {
      std::vector<unsigned> all(n);
      std::iota(all.begin(), all.end(), 0u);
      for (size_t s = 0; s < budget; ++s) {
        std::shuffle(all.begin(), all.end(), gen);
        check_reconstructs(*shares, k, secret, std::vector<unsigned>(all.begin(), all.begin() + k), gen);
        ++combines;
      }
    }
    // More than k shares: the extra ones are ignored.
    auto with_extra = combine(testing::views(*shares), k);
    REQUIRE(with_extra.ok());
    REQUIRE(*with_extra == secret);
  }
  MESSAGE("combined " << combines << " subsets");
}

TEST_CASE("k-1 shares of a non-trivial secret do not rebuild it") {
  // Guards against a degenerate split (e.g. coefficients all zero) that would pass the test above.
  auto rng = make_deterministic(3);
  const std::vector<uint8_t> secret(64, 0x5A);
  const std::vector<uint8_t> xs{1, 2, 3, 4};
  auto shares = split(secret, 3, xs, *rng);
  REQUIRE(shares.ok());
  for (const Share& s : *shares) CHECK(s.y != secret);
  auto wrong = combine(std::vector<ShareView>{(*shares)[0], (*shares)[1]}, 2);
  REQUIRE(wrong.ok());
  CHECK(*wrong != secret);
}

TEST_CASE("split_into and combine_into agree with the allocating forms") {
  std::mt19937_64 gen(8);
  const std::vector<uint8_t> secret = testing::random_bytes(gen, 5000);
  const std::vector<uint8_t> xs{9, 3, 200, 17, 5};
  auto a = make_deterministic(1);
  auto b = make_deterministic(1);
  auto shares = split(secret, 3, xs, *a);
  REQUIRE(shares.ok());
  std::vector<std::vector<uint8_t>> buffers(xs.size(), std::vector<uint8_t>(secret.size()));
  std::vector<std::span<uint8_t>> outs(buffers.begin(), buffers.end());
  REQUIRE(split_into(secret, 3, xs, *b, outs));
  for (size_t i = 0; i < xs.size(); ++i) CHECK(buffers[i] == (*shares)[i].y);
  std::vector<uint8_t> back(secret.size());
  const auto v = testing::views(*shares);
  REQUIRE(combine_into(std::span(v).subspan(2), 3, back));
  CHECK(back == secret);
  std::vector<uint8_t> repaired(secret.size());
  REQUIRE(repair_into(std::span(v).subspan(1), 3, 9, repaired));
  CHECK(repaired == (*shares)[0].y);
}

}  // namespace
}  // namespace etsecd::shamir
