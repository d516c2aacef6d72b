// Every bad input gets its own clear error code, and nothing is half-done.

#include <doctest/doctest.h>

#include "test_util.h"

namespace etsecd::shamir {
namespace {

template <class R>
std::string code_of(const R& r) {
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(r.error().message.empty());
  return r.error().code;
}

const std::vector<uint8_t> kSecret{1, 2, 3, 4, 5, 6, 7, 8};

TEST_CASE("split rejects bad parameters") {
  auto rng = make_deterministic(1);
  const std::vector<uint8_t> xs{1, 2, 3};
  CHECK(code_of(split(kSecret, 1, xs, *rng)) == "shamir.invalid_threshold");
  CHECK(code_of(split(kSecret, 0, xs, *rng)) == "shamir.invalid_threshold");
  CHECK(code_of(split(kSecret, 4, xs, *rng)) == "shamir.invalid_threshold");
  std::vector<uint8_t> too_many(256);
  for (size_t i = 0; i < too_many.size(); ++i) too_many[i] = static_cast<uint8_t>(i);
  CHECK(code_of(split(kSecret, 2, too_many, *rng)) == "shamir.too_many_shares");
  CHECK(code_of(split(kSecret, 2, std::vector<uint8_t>{1, 0, 3}, *rng)) == "shamir.zero_x");
  CHECK(code_of(split(kSecret, 2, std::vector<uint8_t>{7, 9, 7}, *rng)) == "shamir.duplicate_x");
  // The largest legal set: all 255 non-zero xs.
  CHECK(split(kSecret, 255, std::span(too_many).subspan(1), *rng).ok());
  CHECK(code_of(split(kSecret, 256, std::span(too_many).subspan(1), *rng)) == "shamir.invalid_threshold");
}

TEST_CASE("split_into rejects wrongly sized outputs") {
  auto rng = make_deterministic(1);
  std::vector<uint8_t> a(8), b(8), c(7);
  const std::vector<uint8_t> xs{1, 2, 3};
  std::vector<std::span<uint8_t>> outs{a, b, c};
  CHECK(split_into(kSecret, 2, xs, *rng, outs).error().code == "shamir.length_mismatch");
  outs.pop_back();
  CHECK(split_into(kSecret, 2, xs, *rng, outs).error().code == "shamir.length_mismatch");
  CHECK(split_into(kSecret, 5, xs, *rng, outs).error().code == "shamir.invalid_threshold");
}

TEST_CASE("combine, repair_at and consistent reject bad shares") {
  auto rng = make_deterministic(2);
  auto shares = split(kSecret, 3, std::vector<uint8_t>{1, 2, 3, 4}, *rng);
  REQUIRE(shares.ok());
  std::vector<ShareView> v = testing::views(*shares);

  CHECK(code_of(combine(v, 1)) == "shamir.invalid_threshold");
  CHECK(code_of(combine(std::span(v).first(2), 3)) == "shamir.too_few_shares");
  CHECK(code_of(combine({}, 2)) == "shamir.too_few_shares");
  CHECK(code_of(combine(v, 300)) == "shamir.invalid_threshold");

  std::vector<ShareView> zero = v;
  zero[1].x = 0;
  CHECK(code_of(combine(zero, 3)) == "shamir.zero_x");
  std::vector<ShareView> dup = v;
  dup[2].x = dup[0].x;
  CHECK(code_of(combine(dup, 3)) == "shamir.duplicate_x");
  std::vector<ShareView> mixed = v;
  mixed[1].y = mixed[1].y.first(7);
  CHECK(code_of(combine(mixed, 3)) == "shamir.length_mismatch");
  // Only the first k are used by combine, so damage beyond them is ignored there but not by consistent.
  std::vector<ShareView> bad_extra = v;
  bad_extra[3].y = bad_extra[3].y.first(5);
  CHECK(combine(bad_extra, 3).ok());
  CHECK(code_of(consistent(bad_extra, 3)) == "shamir.length_mismatch");
  std::vector<ShareView> dup_extra = v;
  dup_extra[3].x = dup_extra[0].x;
  CHECK(code_of(consistent(dup_extra, 3)) == "shamir.duplicate_x");

  CHECK(code_of(repair_at(v, 3, 0)) == "shamir.zero_x");
  CHECK(code_of(repair_at(std::span(v).first(2), 3, 9)) == "shamir.too_few_shares");
  CHECK(code_of(repair_at(dup, 3, 9)) == "shamir.duplicate_x");
  CHECK(code_of(repair_at(mixed, 3, 9)) == "shamir.length_mismatch");
  CHECK(code_of(consistent(std::span(v).first(2), 3)) == "shamir.too_few_shares");
  CHECK(code_of(consistent(v, 1)) == "shamir.invalid_threshold");

  std::vector<uint8_t> out(7);
  CHECK(combine_into(v, 3, out).error().code == "shamir.length_mismatch");
  CHECK(repair_into(v, 3, 9, out).error().code == "shamir.length_mismatch");
  CHECK(repair_into(v, 3, 0, out).error().code == "shamir.zero_x");
}

TEST_CASE("ZeroPolynomial rejects bad parameters") {
  auto rng = make_deterministic(3);
  CHECK(code_of(ZeroPolynomial::random(1, 8, *rng)) == "shamir.invalid_threshold");
  CHECK(code_of(ZeroPolynomial::random(256, 8, *rng)) == "shamir.invalid_threshold");
  auto zero = ZeroPolynomial::random(3, 8, *rng);
  REQUIRE(zero.ok());
  CHECK(code_of(zero->delta_at(0)) == "shamir.zero_x");
  Share zero_x{0, std::vector<uint8_t>(8)};
  CHECK(zero->apply(zero_x).error().code == "shamir.zero_x");
  Share short_share{5, std::vector<uint8_t>(7, 0xAB)};
  CHECK(zero->apply(short_share).error().code == "shamir.length_mismatch");
  CHECK(short_share.y == std::vector<uint8_t>(7, 0xAB));  // untouched on error
}

TEST_CASE("backend selection reports unsupported backends") {
  testing::BackendGuard guard;
  for (GfBackend b : {GfBackend::kPortable, GfBackend::kSsse3, GfBackend::kAvx2, GfBackend::kGfniAvx2}) {
    const Status s = select_gf_backend(b);
    CHECK(s.ok() == supported(b));
    if (!s.ok()) CHECK(s.error().code == "shamir.unsupported_backend");
  }
}

}  // namespace
}  // namespace etsecd::shamir
