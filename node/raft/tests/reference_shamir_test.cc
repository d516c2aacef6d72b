#include "tests/reference_shamir.h"

#include <doctest/doctest.h>

#include "tests/reference_secret_sharer.h"
#include "tests/test_random.h"

using namespace etsecd::raft;
using namespace etsecd::raft::testing;

TEST_CASE("reference GF(2^8) arithmetic") {
  CHECK(gf_mul(0x57, 0x83) == 0xc1);  // FIPS-197 example
  for (int a = 1; a < 256; ++a) CHECK(gf_mul(static_cast<uint8_t>(a), gf_inv(static_cast<uint8_t>(a))) == 1);
}

TEST_CASE("reference CRC32C matches the standard check value") {
  const Bytes s{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK(ref_crc32c(s) == 0xE3069283u);
}

TEST_CASE("reference split, combine and repair agree") {
  TestRandom rng(3);
  ReferenceSecretSharer sharer;
  const Bytes secret{'s', 'e', 'c', 'r', 'e', 't', '-', 'v', 'a', 'l', 'u', 'e'};
  const uint8_t xs[] = {1, 2, 3, 4, 5};
  auto shares = sharer.split(secret, 3, xs, rng);
  REQUIRE(shares.ok());
  CHECK(*ref_combine_encoded(std::vector<Bytes>{(*shares)[4], (*shares)[0], (*shares)[2]}, 3) == secret);
  CHECK(*ref_combine_encoded(std::vector<Bytes>{(*shares)[1], (*shares)[3]}, 2) != secret);
  auto repaired = sharer.repair_at(std::vector<Bytes>{(*shares)[0], (*shares)[1], (*shares)[2]}, 3, 5);
  REQUIRE(repaired.ok());
  CHECK(*repaired == (*shares)[4]);
  Bytes bad = (*shares)[0];
  bad[8] ^= 1;
  CHECK_FALSE(sharer.check(bad).ok());
  CHECK(sharer.check((*shares)[3])->x == 4);
  const uint8_t dup[] = {1, 1};
  CHECK(sharer.split(secret, 2, dup, rng).error().code == "shamir.duplicate_x");
}
