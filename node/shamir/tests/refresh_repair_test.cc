// repair_at gives exactly the share a split with the same polynomial gives at that x; refresh keeps the
// secret and changes every share; consistent() notices a share off the polynomial.

#include <doctest/doctest.h>

#include "test_util.h"

namespace etsecd::shamir {
namespace {

TEST_CASE("repair_at equals the share the split gave at that x") {
  std::mt19937_64 gen(41);
  auto rng = make_deterministic(41);
  for (int trial = 0; trial < 40; ++trial) {
    const unsigned n = 3 + static_cast<unsigned>(gen() % 10);
    const unsigned k = 2 + static_cast<unsigned>(gen() % (n - 2));
    const std::vector<uint8_t> xs = testing::random_xs(gen, n);
    const std::vector<uint8_t> secret = testing::random_bytes(gen, trial == 0 ? 0 : gen() % 20000);
    auto shares = split(secret, k, xs, *rng);
    REQUIRE(shares.ok());
    std::vector<ShareView> v = testing::views(*shares);
    std::shuffle(v.begin(), v.end(), gen);
    for (const Share& target : *shares) {
      auto repaired = repair_at(v, k, target.x);
      REQUIRE(repaired.ok());
      REQUIRE(*repaired == target);
    }
  }
}

TEST_CASE("repair at a new x equals what a split of the same polynomial gives there") {
  // The coefficients depend only on the generator and the secret's length, not on the xs, so the same
  // seed with one more x yields the same polynomial evaluated at one more point.
  std::mt19937_64 gen(42);
  for (int trial = 0; trial < 20; ++trial) {
    const unsigned n = 3 + static_cast<unsigned>(gen() % 8);
    const unsigned k = 2 + static_cast<unsigned>(gen() % (n - 1));
    std::vector<uint8_t> xs = testing::random_xs(gen, n + 1);
    const uint8_t new_x = xs.back();
    const std::vector<uint8_t> secret = testing::random_bytes(gen, gen() % 10000);
    const uint64_t seed = gen();
    auto with_new = split(secret, k, xs, *make_deterministic(seed));
    xs.pop_back();
    auto without = split(secret, k, xs, *make_deterministic(seed));
    REQUIRE(with_new.ok());
    REQUIRE(without.ok());
    auto repaired = repair_at(testing::views(*without), k, new_x);
    REQUIRE(repaired.ok());
    CHECK(*repaired == with_new->back());
  }
}

TEST_CASE("refresh keeps the secret and changes every share") {
  std::mt19937_64 gen(43);
  auto rng = make_deterministic(43);
  for (int trial = 0; trial < 25; ++trial) {
    const unsigned n = 2 + static_cast<unsigned>(gen() % 12);
    const unsigned k = 2 + static_cast<unsigned>(gen() % (n - 1));
    const std::vector<uint8_t> xs = testing::random_xs(gen, n);
    const std::vector<uint8_t> secret = testing::random_bytes(gen, 16 + gen() % 5000);
    auto shares = split(secret, k, xs, *rng);
    REQUIRE(shares.ok());
    auto zero = ZeroPolynomial::random(k, secret.size(), *rng);
    REQUIRE(zero.ok());
    std::vector<Share> refreshed = *shares;
    for (size_t i = 0; i < n; ++i) {
      REQUIRE(zero->apply(refreshed[i]));
      CHECK(refreshed[i].x == (*shares)[i].x);
      CHECK(refreshed[i].y != (*shares)[i].y);
      auto delta = zero->delta_at(refreshed[i].x);
      REQUIRE(delta.ok());
      for (size_t j = 0; j < secret.size(); ++j) {
        REQUIRE(static_cast<uint8_t>((*shares)[i].y[j] ^ (*delta)[j]) == refreshed[i].y[j]);
      }
    }
    std::vector<ShareView> v = testing::views(refreshed);
    std::shuffle(v.begin(), v.end(), gen);
    auto back = combine(v, k);
    REQUIRE(back.ok());
    CHECK(*back == secret);
    auto still_consistent = consistent(testing::views(refreshed), k);
    REQUIRE(still_consistent.ok());
    CHECK(*still_consistent);
  }
}

TEST_CASE("consistent accepts shares of one polynomial and rejects a deviating one") {
  std::mt19937_64 gen(44);
  auto rng = make_deterministic(44);
  const std::vector<uint8_t> secret = testing::random_bytes(gen, 9000);
  const std::vector<uint8_t> xs{4, 8, 15, 16, 23, 42};
  auto shares = split(secret, 3, xs, *rng);
  REQUIRE(shares.ok());
  auto ok = consistent(testing::views(*shares), 3);
  REQUIRE(ok.ok());
  CHECK(*ok);
  for (size_t victim : {size_t{0}, size_t{2}, size_t{5}}) {
    std::vector<Share> damaged = *shares;
    damaged[victim].y[8999 - victim] ^= 0x01;
    auto bad = consistent(testing::views(damaged), 3);
    REQUIRE(bad.ok());
    CHECK_FALSE(*bad);
  }
  // Exactly k shares always lie on some polynomial of degree < k.
  const std::vector<ShareView> all = testing::views(*shares);
  auto just_k = consistent(std::span(all).first(3), 3);
  REQUIRE(just_k.ok());
  CHECK(*just_k);
}

}  // namespace
}  // namespace etsecd::shamir
