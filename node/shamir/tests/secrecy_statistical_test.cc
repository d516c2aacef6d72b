// Information-theoretic secrecy, checked statistically: the joint distribution of k-1 shares must not
// depend on the secret. For k = 3 we collect the pair (y at x=1, y at x=2) over 2^20 byte positions for
// each of two fixed secrets and compare the two 65536-cell histograms with a two-sample chi-square test
// of homogeneity. Significance level alpha = 1e-6, fixed: with the seeded generator the outcome is
// reproducible, and a correct codec passes with overwhelming margin while a broken one (see the control
// below, where the shares do determine the secret) exceeds the threshold by orders of magnitude.

#include <doctest/doctest.h>

#include <cmath>

#include "test_util.h"

namespace etsecd::shamir {
namespace {

constexpr size_t kCells = 65536;
constexpr size_t kBytesPerSplit = 4096;
constexpr size_t kSplits = 256;  // 2^20 samples per secret, 16 expected per cell

std::vector<uint32_t> pair_histogram(const std::vector<uint8_t>& secret, unsigned k, uint64_t seed) {
  std::vector<uint32_t> histogram(kCells);
  auto rng = make_deterministic(seed);
  const std::vector<uint8_t> xs{1, 2, 3};
  for (size_t s = 0; s < kSplits; ++s) {
    auto shares = split(secret, k, std::span(xs).first(k < 3 ? 2 : 3), *rng);
    REQUIRE(shares.ok());
    for (size_t j = 0; j < secret.size(); ++j) ++histogram[(*shares)[0].y[j] * 256u + (*shares)[1].y[j]];
  }
  return histogram;
}

// Two-sample chi-square with equal sample sizes: sum (a-b)^2/(a+b); degrees of freedom = cells - 1.
double chi_square(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double total = double(a[i]) + double(b[i]);
    if (total > 0) sum += (double(a[i]) - double(b[i])) * (double(a[i]) - double(b[i])) / total;
  }
  return sum;
}

// Upper critical value of chi-square(df) at alpha = 1e-6 (z = 4.7534), by the Wilson-Hilferty
// approximation, which is accurate to well under 1% at df = 65535.
double critical_value(double df) {
  const double z = 4.7534;
  const double t = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - t + z * std::sqrt(t), 3.0);
}

std::vector<uint8_t> secret_a() { return std::vector<uint8_t>(kBytesPerSplit, 0x00); }
std::vector<uint8_t> secret_b() {
  std::vector<uint8_t> s(kBytesPerSplit);
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(0xA5 ^ (i * 29));
  return s;
}

TEST_CASE("k-1 shares are independent of the secret (chi-square, alpha = 1e-6)") {
  const double statistic =
      chi_square(pair_histogram(secret_a(), 3, 1001), pair_histogram(secret_b(), 3, 2002));
  const double limit = critical_value(kCells - 1);
  MESSAGE("chi-square " << statistic << " vs critical " << limit << " (df 65535)");
  CHECK(statistic < limit);
}

TEST_CASE("a single share of a k=2 split is independent of the secret (chi-square, df 255, alpha = 1e-6)") {
  auto histogram = [](const std::vector<uint8_t>& secret, uint64_t seed) {
    std::vector<uint32_t> counts(256);
    auto rng = make_deterministic(seed);
    const std::vector<uint8_t> xs{1, 2};
    for (size_t s = 0; s < 16; ++s) {
      auto shares = split(secret, 2, xs, *rng);
      REQUIRE(shares.ok());
      for (uint8_t byte : (*shares)[0].y) ++counts[byte];
    }
    return counts;
  };
  const double statistic = chi_square(histogram(secret_a(), 5), histogram(secret_b(), 6));
  MESSAGE("chi-square " << statistic << " vs critical " << critical_value(255));
  CHECK(statistic < critical_value(255));
}

TEST_CASE("control: the same test detects dependence when the shares determine the secret") {
  // With k = 2, two shares are a full set, so their joint distribution depends on the secret.
  const double statistic =
      chi_square(pair_histogram(secret_a(), 2, 1001), pair_histogram(secret_b(), 2, 2002));
  const double limit = critical_value(kCells - 1);
  MESSAGE("control chi-square " << statistic << " vs critical " << limit);
  CHECK(statistic > 10 * limit);
}

}  // namespace
}  // namespace etsecd::shamir
