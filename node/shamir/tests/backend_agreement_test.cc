// Every instruction-set path must give the bytes the portable path gives, on random inputs.

#include <doctest/doctest.h>

#include <array>

#include "etsecd/shamir/share_codec.h"
#include "gf256_kernels.h"
#include "test_util.h"

namespace etsecd::shamir {
namespace {

TEST_CASE("dispatch picks the fastest supported backend") {
  MESSAGE("GF backends on this CPU: " << supported_gf_backends().size()
                                      << ", active: " << name(active_gf_backend())
                                      << ", CRC: " << name(active_crc_backend()));
  CHECK(supported_gf_backends().front() == GfBackend::kPortable);
  CHECK(active_gf_backend() == supported_gf_backends().back());
  CHECK_FALSE(select_gf_backend(static_cast<GfBackend>(99)).ok());
}

TEST_CASE("kernels agree with the portable path on random rows, counts and lengths") {
  std::mt19937_64 gen(0xA11CE);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t count = 1 + gen() % (trial < 250 ? 9 : 255);
    const size_t len = trial % 50 == 0 ? 20000 + gen() % 5000 : gen() % 700;
    std::vector<std::vector<uint8_t>> data(count);
    std::array<const uint8_t*, 256> rows{};
    for (size_t i = 0; i < count; ++i) {
      data[i] = testing::random_bytes(gen, len);
      rows[i] = data[i].data();
    }
    const std::vector<uint8_t> weights = testing::random_bytes(gen, count);
    const auto x = static_cast<uint8_t>(gen());
    std::vector<uint8_t> want_eval(len), want_comb(len);
    kernels::kPortable.eval(x, rows.data(), count, want_eval.data(), len);
    kernels::kPortable.lin_comb(weights.data(), rows.data(), count, want_comb.data(), len);
    for (GfBackend b : supported_gf_backends()) {
      CAPTURE(name(b));
      CAPTURE(count);
      CAPTURE(len);
      std::vector<uint8_t> got(len);
      kernels::for_backend(b).eval(x, rows.data(), count, got.data(), len);
      REQUIRE(got == want_eval);
      kernels::for_backend(b).lin_comb(weights.data(), rows.data(), count, got.data(), len);
      REQUIRE(got == want_comb);
      // In place on rows[0], as ZeroPolynomial::apply does.
      std::vector<uint8_t> in_place = data[0];
      std::array<const uint8_t*, 256> aliased = rows;
      aliased[0] = in_place.data();
      kernels::for_backend(b).eval(x, aliased.data(), count, in_place.data(), len);
      REQUIRE(in_place == want_eval);
    }
  }
}

TEST_CASE("split, combine and repair give identical bytes on every backend") {
  testing::BackendGuard guard;
  std::mt19937_64 gen(77);
  for (int trial = 0; trial < 20; ++trial) {
    const unsigned n = 2 + static_cast<unsigned>(gen() % 12);
    const unsigned k = 2 + static_cast<unsigned>(gen() % (n - 1));
    const std::vector<uint8_t> xs = testing::random_xs(gen, n);
    const std::vector<uint8_t> secret = testing::random_bytes(gen, gen() % 3000);
    const uint64_t seed = gen();
    std::vector<std::vector<Share>> per_backend;
    for (GfBackend b : supported_gf_backends()) {
      REQUIRE(select_gf_backend(b));
      auto rng = make_deterministic(seed);
      auto shares = split(secret, k, xs, *rng);
      REQUIRE(shares.ok());
      const auto v = testing::views(*shares);
      auto back = combine(std::span(v).last(k), k);
      REQUIRE(back.ok());
      CHECK(*back == secret);
      auto repaired = repair_at(v, k, xs.back());
      REQUIRE(repaired.ok());
      CHECK(*repaired == shares->back());
      per_backend.push_back(*shares);
    }
    for (const auto& shares : per_backend) CHECK(shares == per_backend.front());
  }
}

TEST_CASE("CRC32C backends agree on random buffers") {
  testing::BackendGuard guard;
  std::mt19937_64 gen(5);
  for (int trial = 0; trial < 400; ++trial) {
    const std::vector<uint8_t> data = testing::random_bytes(gen, trial < 300 ? trial : gen() % 100000);
    const auto seed = static_cast<uint32_t>(gen());
    REQUIRE(select_crc_backend(CrcBackend::kPortable));
    const uint32_t portable = crc32c(data, seed);
    if (supported(CrcBackend::kSse42)) {
      REQUIRE(select_crc_backend(CrcBackend::kSse42));
      REQUIRE(crc32c(data, seed) == portable);
    }
  }
}

}  // namespace
}  // namespace etsecd::shamir
