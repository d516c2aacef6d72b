// The test reference codec and the production codec (when built) must be interchangeable: same field
// (GF(2^8) modulo 0x11B), same share encoding and checksum. Without the production codec this checks
// the reference against itself through the SecretSharer interface only.
#include <doctest/doctest.h>

#include "tests/reference_secret_sharer.h"
#include "tests/reference_shamir.h"
#include "tests/test_random.h"

using namespace etsecd::raft;
using namespace etsecd::raft::testing;

namespace {
std::unique_ptr<SecretSharer> other_sharer() {
#ifdef ETSECD_RAFT_HAVE_SHAMIR
  return make_shamir_secret_sharer();
#else
  return std::make_unique<ReferenceSecretSharer>();
#endif
}
}  // namespace

TEST_CASE("shares from either codec combine and repair with the other") {
  TestRandom rng(11);
  ReferenceSecretSharer ref;
  auto other = other_sharer();
  const Bytes secret{'i', 'n', 't', 'e', 'r', 'o', 'p', '-', 's', 'e', 'c', 'r', 'e', 't', '!', '!'};
  const uint8_t xs[] = {1, 2, 3, 4, 5};
  auto from_other = other->split(secret, 3, xs, rng);
  REQUIRE(from_other.ok());
  for (const Bytes& s : *from_other) CHECK(ref.check(s).ok());
  CHECK(*ref_combine_encoded(std::vector<Bytes>{(*from_other)[0], (*from_other)[2], (*from_other)[4]}, 3) ==
        secret);
  auto from_ref = ref.split(secret, 3, xs, rng);
  REQUIRE(from_ref.ok());
  auto repaired = other->repair_at(std::vector<Bytes>{(*from_ref)[1], (*from_ref)[2], (*from_ref)[3]}, 3, 1);
  REQUIRE(repaired.ok());
  CHECK(*repaired == (*from_ref)[0]);
  Bytes bad = (*from_ref)[2];
  bad.back() ^= 1;
  CHECK_FALSE(other->check(bad).ok());
}
